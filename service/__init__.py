"""Infrastructure shared by every process: settings, logging, metrics, the Temporal client
(envconfig, payload codec, codec server), worker setup, process exit, free ports, the dev server's
command line and child processes (`supervise`). No client operation, CLI or business logic here.
"""
