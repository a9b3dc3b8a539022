"""Every setting of Mediamon in one pydantic-settings model (env prefix ``MEDIAMON_``, ``.env``)."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration for the worker, the command line and the offline enricher.

    Each field is read from the environment variable ``MEDIAMON_<FIELD>`` (upper case) or
    from a ``.env`` file in the working directory. docs/configuration.md lists every one: it is
    generated from these fields (type, default, description) when the site is built.
    """

    model_config = SettingsConfigDict(
        env_prefix="MEDIAMON_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Kafka
    broker: str = Field(
        "kafka://127.0.0.1:9092",
        description="Bootstrap server(s) as a Faust URL; several separated by ';'.",
    )
    connect_timeout_s: float = Field(
        10.0, gt=0, description="How long the command line waits to reach the broker."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How clients talk to the broker."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism with SASL_PLAINTEXT or SASL_SSL."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password.")
    ssl_cafile: Path | None = Field(
        None, description="CA bundle that signed the broker's certificate (SSL, SASL_SSL)."
    )
    ssl_certfile: Path | None = Field(None, description="Client certificate for mutual TLS.")
    ssl_keyfile: Path | None = Field(None, description="Client certificate's private key.")
    app_id: str = Field("mediamon", description="Faust application id = consumer group id.")
    topic_raw: str = Field("articles.raw", description="Ingest topic: raw articles in.")
    topic_enriched: str = Field("articles.enriched", description="Enriched events out.")
    topic_deadletter: str = Field("articles.deadletter", description="Rejected input out.")
    topic_duplicates: str | None = Field(
        None,
        description="When set, duplicate articles go to this topic instead of the enriched one.",
    )
    topic_alerts: str = Field("articles.alerts", description="Alerts of the watch rules out.")
    topic_watch: str = Field(
        "articles.watch",
        description="The watch rules (compacted; key: rule id), written by `mediamon watch`.",
    )
    watch_file: Path | None = Field(
        None, description="A YAML or JSON file of watch rules every worker loads at start-up."
    )
    partitions: int = Field(4, ge=1, description="Partitions of the topics the worker creates.")
    replication_factor: int = Field(1, ge=1, description="Replication of created topics.")
    create_topics: bool = Field(
        True, description="Create the three topics at worker start when they do not exist."
    )
    session_timeout_s: float = Field(10.0, gt=0, description="Consumer group session timeout.")
    heartbeat_interval_s: float = Field(1.0, gt=0, description="Consumer heartbeat interval.")
    rebalance_timeout_s: float = Field(10.0, gt=0, description="Consumer rebalance timeout.")
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        "at_least_once",
        description="Faust's processing guarantee. exactly_once needs Kafka transactions: for"
        " Apache Kafka only, untested here (the embedded broker has no transactions).",
    )
    commit_interval_s: float = Field(
        1.0, gt=0, description="How often processed offsets are committed."
    )
    producer_batch_bytes: int = Field(
        16384,
        ge=1,
        description="Most bytes the worker's producer batches per partition. Set 1 for the"
        " embedded Tansu broker, whose high watermarks are wrong after multi-record batches.",
    )
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "none",
        description="Codec of every record Mediamon produces (the worker's outputs and"
        " tables, `mediamon push`, `mediamon watch`); zstd or lz4 against Apache Kafka. Input"
        " in any codec is read whatever this says. None by default: against the embedded"
        " broker, workers restarted after a stop stalled their commits in some runs with zstd.",
    )
    fetch_wait_s: float = Field(
        1.5,
        gt=0,
        description="Longest the broker may hold the worker's fetch when there is nothing new"
        " (Faust's 1.5 s). Set 0.1 for the embedded Tansu broker, which answers late.",
    )
    data_dir: Path = Field(Path(".mediamon-data"), description="Worker state directory.")
    stream_buffer_size: int | None = Field(
        None,
        ge=1,
        description="How many ingest messages may wait for the worker's agent (Faust pauses"
        " fetching from a partition at 80 % of it: backpressure); unset: four batches"
        " (4 x MEDIAMON_BATCH_SIZE), at least 16, which bounds memory to a few batches' bytes"
        " (Faust's own 4096 could hold 16 GiB of 4 MiB messages).",
    )
    retry_backoff_max_s: float = Field(
        30.0,
        gt=0,
        description="Longest wait between two attempts while the broker is away or a batch"
        " keeps failing (the worker reaching the broker, publishing a batch, reading the watch"
        " topic): the wait doubles from 0.5 s or 1 s up to this.",
    )
    push_timeout_s: float = Field(
        30.0,
        gt=0,
        description="How long `mediamon push` (and `mediamon watch add`) waits for the broker to"
        " acknowledge each record before it fails.",
    )
    watch_refresh_s: float = Field(
        10.0,
        gt=0,
        description="How often a worker looks for partitions of the watch topic it does not"
        " read yet (the topic created or grown after the worker started).",
    )
    shutdown_grace_s: float = Field(
        10.0,
        gt=0,
        description="While the worker stops, how long a batch may wait for the broker before"
        " it is given up (left uncommitted, so it is processed again after the restart).",
    )
    shutdown_timeout_s: float = Field(
        20.0,
        gt=0,
        description="How long a stopping worker may take before it exits anyway (exit code 1)."
        " A stop normally takes seconds; it hangs when the broker is unreachable, as Faust"
        " flushes and commits before it lets go. Exiting then is safe: only offsets whose"
        " outputs the broker acknowledged are ever committed.",
    )
    demo_idle_timeout_s: float = Field(
        180.0,
        gt=0,
        description="`mediamon demo --once` fails when no enriched event arrives for this long.",
    )

    # Processing
    batch_size: int = Field(32, ge=1, description="Articles per NLP batch.")
    batch_timeout_s: float = Field(0.2, gt=0, description="Longest wait to fill a batch.")
    max_message_bytes: int = Field(
        4_194_304,
        ge=1024,
        description="Largest accepted ingest message in bytes; larger ones dead-letter. The"
        " broker's and topic's max.message.bytes must allow it (Kafka's default is ~1 MB).",
    )
    enrich_languages: list[str] = Field(
        ["*"],
        description="Languages (ISO 639-1) the NLP stages read, or '*' for every language the"
        " detector names; others are published unenriched. Within these, each stage reads the"
        " languages it has a model for (quotes and stance: English).",
    )
    dedup_threshold: float = Field(
        0.8, gt=0, le=1, description="Estimated Jaccard similarity that makes a near duplicate."
    )
    dedup_window_s: float = Field(
        7 * 86400.0, gt=0, description="How long (seconds) a seen article is remembered."
    )
    dedup_max_entries: int | None = Field(
        50_000,
        ge=1,
        description="Most articles remembered for duplicate detection (about 6 KiB of worker"
        " memory each).",
    )
    analysis_cache_size: int = Field(
        1000,
        ge=0,
        description="Recent articles whose NLP results the worker keeps by title, body and"
        " year (about 50 KiB each), so that an exact copy (a redelivery after a rebalance, the"
        " same story from another feed) skips the NLP stages and gets the same results; 0 keeps"
        " none (copies within a batch are still analysed once).",
    )
    ner_model: str = Field(
        "bundled",
        description="The NER pipeline: 'bundled' (Mediamon's transformer recogniser with the"
        " knowledge-base entity ruler), a directory of scripts/train_tagger.py's output, an"
        " installed spaCy package, or a spaCy pipeline directory.",
    )
    ner_multilingual_model: str | None = Field(
        "bundled",
        description="The recogniser of every language but English: 'bundled' (the multilingual"
        " model shipped with Mediamon), a directory of scripts/train_tagger.py --encoder e5"
        " output, or none (also 'null' or empty) for English only. Loaded when a worker first"
        " meets such an article.",
    )
    stance_enabled: bool = Field(
        True,
        description="Score the sentiment of every mention and the stances (the stance model is"
        " about half of the worker's CPU per article); false: events carry no sentiment, no"
        " stances and no pronoun or title mentions.",
    )
    stance_model: str = Field(
        "standard",
        min_length=1,
        description="The stance classifier: 'standard' (six layers), 'fast' (three layers"
        " taught by it: half the stance stage's cost, NewsMTSC dev macro-F1 about 0.01 lower),"
        " 'lite' (four narrow layers taught by it: a quarter of the cost, macro-F1 0.03-0.06"
        " lower), or a directory holding model.onnx and tokenizer.json as scripts/train_stance.py"
        " writes them.",
    )
    stance_backlog_model: str = Field(
        "lite",
        description="The stance classifier for a batch taken while the worker is behind (a full"
        " batch of MEDIAMON_BATCH_SIZE articles, or one whose oldest article has waited"
        " MEDIAMON_STANCE_BACKLOG_AFTER_S: a burst or a backlog), in the same forms as"
        " MEDIAMON_STANCE_MODEL: 'lite' by default, so that a worker drains a backlog about twice"
        " as fast and scores with the main model whenever it keeps up; '' (or the main model's"
        " name): the main model always. Each event names its model (stance_model). Offline"
        " enrichment (mediamon enrich) always uses the main model.",
    )
    stance_backlog_after_s: float = Field(
        0.75,
        gt=0,
        description="A batch whose oldest article has waited this long since its ingest"
        " timestamp (the message's Kafka timestamp) also counts as behind and goes to"
        " MEDIAMON_STANCE_BACKLOG_MODEL: a load the main model cannot quite keep up with builds"
        " a queue before it fills batches (0.75 s kept the benchmark's p99 latency at half load"
        " under 2 s).",
    )
    iptc_model: Path | None = Field(
        None,
        description="Weights of the IPTC stage's linear model (JSON written by"
        " scripts/train_iptc.py); unset: the shipped ones.",
    )
    iptc_min_score: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Score from which an IPTC code is given (the best top-level code always is).",
    )
    gazetteer_path: Path | None = Field(
        None,
        description="The gazetteer (an SQLite file built by scripts/build_gazetteer.py) the"
        " locations stage resolves places in; unset: the shipped one"
        " (pipeline/data/gazetteer.sqlite).",
    )
    taxonomy_path: Path | None = Field(
        None,
        description="A taxonomy YAML file of subject tags that extends or replaces the shipped"
        " one (see MEDIAMON_TAXONOMY_MODE); unset: the shipped one alone.",
    )
    taxonomy_mode: Literal["extend", "replace"] = Field(
        "extend",
        description="'extend': the file's tags are added to the shipped ones (same id replaces,"
        " enabled: false removes); 'replace': the file's tags alone.",
    )

    # Trends
    trends_enabled: bool = Field(
        True, description="Count entities and tags per time window and publish trends."
    )
    topic_trends: str = Field("articles.trends", description="Trend records out.")
    trends_window_s: int = Field(3600, ge=1, description="Length of a trend window (seconds).")
    trends_baseline_windows: int = Field(
        24, ge=1, description="How many earlier windows form a term's baseline."
    )
    trends_expires_s: int = Field(
        86400,
        ge=1,
        description="How long (seconds) after its end a window is kept; later counts for it"
        " are ignored as late. At least window x baseline windows.",
    )
    trends_time: Literal["ingested", "published"] = Field(
        "ingested",
        description="An article's time for trends: its ingest time, or its publication time"
        " when known (else its ingest time).",
    )
    trends_min_salience: float = Field(
        0.05,
        ge=0,
        le=1,
        description="An entity counts for an article's trends when at least this salient in it"
        " (0: every entity named).",
    )
    trends_top_n: int = Field(
        10, ge=1, le=100, description="Terms of each kind exported as metrics, per worker."
    )
    trends_publish_interval_s: float = Field(
        10.0, gt=0, description="How often changed trends are published and metrics refreshed."
    )

    # Feeds
    topic_feeds: str = Field(
        "articles.feeds",
        description="The feed list (compacted; key: feed URL), written by `mediamon feeds`.",
    )
    topic_feeds_seen: str = Field(
        "articles.feeds.seen",
        description="The article URLs the feed readers have fetched (compacted; key: canonical"
        " URL), so that a restarted reader, or another one, never fetches a page twice.",
    )
    feeds_file: Path | None = Field(
        None,
        description="A file of feeds every feed reader loads at start-up: OPML, or one URL a"
        " line (# starts a comment).",
    )
    feeds_user_agent: str = Field(
        "mediamon-feeds/0.1 (news feed reader; +https://github.com/mediamon/mediamon)",
        min_length=1,
        description="The User-Agent of every request of `mediamon feeds run`, and the agent"
        " whose robots.txt rules it keeps.",
    )
    feeds_poll_min_s: float = Field(
        300.0,
        gt=0,
        description="Shortest wait between two polls of one feed: a feed is polled this often"
        " while each poll finds new items; the wait grows by half after a poll without any.",
    )
    feeds_poll_max_s: float = Field(
        3600.0, gt=0, description="Longest wait between two polls of one feed (or two retries)."
    )
    feeds_fetch_timeout_s: float = Field(
        20.0, gt=0, description="Longest a feed reader's fetch may take, redirects included."
    )
    feeds_max_bytes: int = Field(
        2_097_152,
        ge=1024,
        description="Largest feed or page a feed reader takes, in bytes after decompression;"
        " a larger one (a decompression bomb among them) is refused with reason too_large.",
    )
    feeds_max_redirects: int = Field(
        5, ge=0, description="Most redirects a feed reader follows for one fetch."
    )
    feeds_concurrency: int = Field(
        16, ge=1, description="Most fetches a feed reader runs at once, over every host."
    )
    feeds_host_concurrency: int = Field(
        2, ge=1, description="Most fetches a feed reader runs at once against one host."
    )
    feeds_host_interval_s: float = Field(
        1.0,
        ge=0,
        description="Shortest time between the starts of two requests to one host (longer"
        " when its robots.txt asks for a crawl delay).",
    )
    feeds_allowed_networks: list[str] = Field(
        [],
        description='Non-public networks (CIDR, as ["127.0.0.0/8"]) a feed reader may fetch'
        " from or be redirected to (for tests and intranet feeds); every other loopback,"
        " private, link-local, shared or reserved address is refused.",
    )
    feeds_seen_retention_days: float = Field(
        90.0,
        gt=0,
        description="How long the feeds-seen topic keeps a fetched URL (its retention when the"
        " topic is created); a feed item older than that would be fetched again.",
    )
    feeds_metrics_port: int = Field(
        9109,
        ge=0,
        le=65535,
        description="Prometheus /metrics port of `mediamon feeds run`; 0 disables.",
    )

    # Notifications
    topic_notify_deadletter: str = Field(
        "articles.notify.deadletter",
        description="Alerts `mediamon notify run` could not deliver to a target after"
        " MEDIAMON_NOTIFY_ATTEMPTS tries (key: rule id).",
    )
    notify_targets: dict[str, str] = Field(
        {},
        description="Named notification targets, as a JSON object of name to URL (a rule's"
        " notify names them, so that the URLs and their tokens stay out of the rules).",
    )
    notify_webhook_secret: SecretStr | None = Field(
        None,
        description="The key of the HMAC-SHA256 signature of every webhook (headers"
        " X-Mediamon-Timestamp and X-Mediamon-Signature); unset: webhooks are not signed.",
    )
    notify_attempts: int = Field(
        5,
        ge=1,
        description="Tries to deliver one message to one target (the waits between them"
        " double from 1 s up to MEDIAMON_RETRY_BACKOFF_MAX_S) before it is dead-lettered.",
    )
    notify_timeout_s: float = Field(
        10.0, gt=0, description="Longest one delivery attempt (webhook, e-mail) may take."
    )
    notify_metrics_port: int = Field(
        9110,
        ge=0,
        le=65535,
        description="Prometheus /metrics port of `mediamon notify run`; 0 disables.",
    )

    # Observability
    metrics_port: int = Field(
        9108, ge=0, le=65535, description="Prometheus /metrics port of the worker; 0 disables."
    )
    lag_interval_s: float = Field(5.0, gt=0, description="How often consumer lag is measured.")
    log_level: str = Field("info", description="Worker log level.")

    def as_env(self) -> dict[str, str]:
        """These settings as ``MEDIAMON_*`` environment variables (unset fields left out),
        for a child process such as a worker."""
        env = {}
        for name, value in self.model_dump(mode="json").items():
            secret = getattr(self, name)
            if isinstance(secret, SecretStr):  # dumped masked; a child needs the real one
                value = secret.get_secret_value()
            if value is not None:
                env[f"MEDIAMON_{name.upper()}"] = (
                    value if isinstance(value, str) else json.dumps(value)
                )
        return env

    @property
    def uses_sasl(self) -> bool:
        """Whether the broker connection authenticates with SASL."""
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        """Whether the broker connection is encrypted with TLS."""
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for the broker connection, or None without TLS."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None
        )
        if self.ssl_certfile:
            context.load_cert_chain(
                str(self.ssl_certfile), str(self.ssl_keyfile) if self.ssl_keyfile else None
            )
        return context

    @field_validator("ner_multilingual_model", mode="before")
    @classmethod
    def _none_turns_it_off(cls, value: object) -> object:
        """``none``, ``null`` or an empty value (as an environment variable gives them) is no
        multilingual recogniser."""
        if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
            return None
        return value

    @model_validator(mode="after")
    def _trend_windows_outlive_the_baseline(self) -> Settings:
        if self.trends_expires_s < self.trends_window_s * self.trends_baseline_windows:
            raise ValueError(
                "MEDIAMON_TRENDS_EXPIRES_S must be at least MEDIAMON_TRENDS_WINDOW_S times"
                " MEDIAMON_TRENDS_BASELINE_WINDOWS, or the baseline windows are gone"
            )
        return self

    @property
    def languages(self) -> frozenset[str] | None:
        """``enrich_languages`` as the languages a stage serves: None for every one (``*``)."""
        return None if "*" in self.enrich_languages else frozenset(self.enrich_languages)

    @property
    def trend_topics(self) -> list[str]:
        """The trends topic and the internal topic that routes each term to the partition
        that counts it (``<app id>-trends-terms``), when trends are enabled."""
        if not self.trends_enabled:
            return []
        return [self.topic_trends, f"{self.app_id}-trends-terms"]

    @property
    def output_topics(self) -> list[str]:
        """The topics the worker publishes to."""
        topics = [self.topic_enriched, self.topic_deadletter, self.topic_alerts]
        return [*topics, self.topic_duplicates] if self.topic_duplicates else topics

    @property
    def compression_type(self) -> str | None:
        """The codec as Kafka clients take it: its name, or None for no compression."""
        return None if self.compression == "none" else self.compression

    @property
    def bootstrap_servers(self) -> list[str]:
        """The broker URL(s) as ``host:port`` strings for kafka-python."""
        servers = []
        for part in self.broker.split(";"):
            for url in part.split(","):
                url = url.strip()
                if url:
                    servers.append(url.split("://", 1)[-1].rstrip("/"))
        return servers
