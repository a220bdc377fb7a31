"""The backend ingress: the HTTP front door of the saga (FastAPI, `python -m ingress`).

Role: turn the payment channels' signed notifications and the backend's and operators' calls into
the client-side operations of `client.upgrades` (start, status, confirm_payment, cancel, resolve),
answering with JSON or RFC 9457 problem details that name the offending field.

Boundary: no business rule of the saga lives here. The workflow decides what a notice or a
decision means; the ingress authenticates the caller, validates the body into the domain models,
delivers it, and maps the outcome to an HTTP status. It holds no state of its own (no cache, no
dedup table): the workflow run is the only record of a payment, so any number of ingress copies
can serve. What no run takes (a refund notice, a statement line for a person) goes to the review
list in the data directory (`client.review_store`).

Modules: `settings` (environment), `signature` (HMAC of the raw body), `problems` (error bodies),
`auth` (bearer tokens), `temporal_link` (the client, readiness), `runs` (server-side reads of a
run), `notifications` (delivering a payment notice idempotently), `channel_keys` (the channels'
verifiers from the settings), `channel_doors` (a verified channel notice to its order),
`routes_*` (the endpoints: `routes_alipay`, `routes_wechat_pay`, `routes_statements` among them),
`app` (the factory), `__main__` (uvicorn).
"""
