"""``mediamon notify``: watch-rule alerts delivered to people, in a process of its own that reads
the alerts topic (a target that is down never slows the workers).

- :mod:`pipeline.notify.messages`: one alert, or a digest of several, as a message.
- :mod:`pipeline.notify.targets`: webhooks (signed JSON), e-mail (SMTP), chat (apprise), retries.
- :mod:`pipeline.notify.pacing`: each rule's rate limit and digests.
- :mod:`pipeline.notify.run`: the process: consume, deliver, dead-letter, commit.
"""
