"""A message to send: one alert, or the digest of a rule's alerts of the last minutes, with a
subject, a plain text listing each story with its evidence, and the JSON a webhook receives."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from pipeline.models import Alert


@dataclass(frozen=True, slots=True)
class Message:
    rule_id: str
    alerts: list[Alert]
    digest: bool = False

    @property
    def subject(self) -> str:
        if len(self.alerts) == 1 and not self.digest:
            return f"[mediamon] {self.rule_id}: {self.alerts[0].title or self.alerts[0].url}"
        return f"[mediamon] {self.rule_id}: {len(self.alerts)} stories"

    @property
    def text(self) -> str:
        description = self.alerts[0].rule_description if self.alerts else ""
        lines = [f"Watch rule {self.rule_id}" + (f": {description}" if description else "")]
        for alert in self.alerts:
            source = alert.source.name or alert.source.domain
            lines.append("")
            lines.append(f"* {alert.title or '(no title)'}" + (f" ({source})" if source else ""))
            if alert.url:
                lines.append(f"  {alert.url}")
            lines += [f"  - {evidence.summary}" for evidence in alert.evidence]
        return "\n".join(lines)

    @property
    def payload(self) -> bytes:
        """The webhook body: the rule, whether it is a digest, and the alerts as published."""
        return orjson.dumps(
            {
                "rule_id": self.rule_id,
                "digest": self.digest,
                "alerts": [alert.model_dump(mode="json") for alert in self.alerts],
            }
        )
