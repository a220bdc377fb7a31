"""Payment channels at the door: Alipay and WeChat Pay notifications, bank statements.

The channels' own protocols, spoken by the service (verify) and by the sandbox (sign, send),
with one module per job:

    channels/
    ├── errors.py              the refusal tree (`ChannelError` and its kinds, with HTTP statuses)
    ├── notices.py             `ChannelNotice` (a verified notice), `check_order`, yuan/fen maths
    ├── keys.py                RSA keys and certificates as the channels hand them out
    ├── alipay.py              Alipay: parse the form, RSA2 verification, merchant checks, meaning
    ├── alipay_signing.py      Alipay's side: build and sign a trade notification
    ├── wechat_pay.py          WeChat Pay v3: headers, serial key store, signature, AES-GCM, meaning
    ├── wechat_pay_signing.py  WeChat Pay's side: seal and sign a notification
    ├── answers.py             the exact answers each channel expects, and its re-send schedule
    ├── reference.py           payment reference codes for corporate transfers (check character)
    ├── statement.py           bank statement CSV: strict parser and writer
    └── matching.py            statement lines against open orders: matched / for a person

Boundary: depends on `domain` and third-party libraries only (no Temporal, no settings, no HTTP
framework); no I/O but reading the key or certificate files a caller names. The ingress, the
sandbox and the CLI plug these in.
"""
