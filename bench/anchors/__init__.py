"""The servers smx is measured against, each a small app written for this benchmark.

    bolt_bare.py     a Bolt app that only acks (AsyncApp, defaults: the listener runs after the ack)
    bolt_inline.py   a Bolt app that only acks inside the request (process_before_response=True)
    ceiling.py       plain aiohttp checking the Slack signature (the ceiling for any Python server)

Each is served the same way (`serve.py`: aiohttp's AppRunner on 127.0.0.1, no access log, as
`smx serve` has none) and run as its own process: `python bench/anchors/NAME.py --port PORT`,
with SLACK_SIGNING_SECRET (and SLACK_API_URL for the Bolt apps' one auth.test) in the environment.
"""
