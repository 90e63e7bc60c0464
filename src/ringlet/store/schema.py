"""The tables. Migrations in `migrations/versions` create exactly these; a test compares them.

Times are integer milliseconds since the epoch (UTC): one representation on both databases,
cheap to index and compare.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only aliases rowid (and so autoincrements) for a column declared INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

apps = sa.Table(
    "apps",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.String(128), nullable=False, unique=True),
    sa.Column("client_secret_hash", sa.String(256), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("permissions", sa.Text, nullable=False),  # space-separated AppPermission values
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("main_number", sa.String(32), nullable=True),
    sa.Column("operator_extension_number", sa.String(16), nullable=False),
)

extensions = sa.Table(
    "extensions",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("extension_number", sa.String(16), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("email", sa.String(256), nullable=True),
    sa.Column("admin", sa.Boolean, nullable=False, default=False),
    sa.Column("password_hash", sa.String(256), nullable=True),
    # The JWT credential is a long random string: a SHA-256 digest is enough, and allows lookup.
    sa.Column("jwt_digest", sa.String(64), nullable=True, unique=True),
    sa.UniqueConstraint("account_id", "extension_number", name="uq_extension_number"),
)
sa.Index("ix_extensions_email", extensions.c.email)

phone_numbers = sa.Table(
    "phone_numbers",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("extension_id", sa.BigInteger, sa.ForeignKey("extensions.id"), nullable=True),
    sa.Column("phone_number", sa.String(32), nullable=False, unique=True),
    sa.Column("usage_type", sa.String(32), nullable=False),
    sa.Column("features", sa.Text, nullable=False),  # space-separated PhoneNumberFeature values
)
sa.Index("ix_phone_numbers_extension", phone_numbers.c.extension_id)

department_members = sa.Table(
    "department_members",
    metadata,
    sa.Column("department_id", sa.BigInteger, sa.ForeignKey("extensions.id"), primary_key=True),
    sa.Column("extension_id", sa.BigInteger, sa.ForeignKey("extensions.id"), primary_key=True),
)
sa.Index("ix_department_members_extension", department_members.c.extension_id)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("app_id", sa.BigInteger, sa.ForeignKey("apps.id"), nullable=False),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("extension_id", sa.BigInteger, sa.ForeignKey("extensions.id"), nullable=False),
    # SHA-256 digests of the current tokens; a refresh replaces both (single use).
    sa.Column("access_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("refresh_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("access_expires_ms", sa.BigInteger, nullable=False),
    sa.Column("refresh_expires_ms", sa.BigInteger, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("endpoint_id", sa.String(64), nullable=False),
)

pager_threads = sa.Table(
    "pager_threads",
    metadata,
    sa.Column("conversation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id"), nullable=False),
)

# R12: the explicit members (sender and named recipients) of a thread ...
pager_thread_members = sa.Table(
    "pager_thread_members",
    metadata,
    sa.Column(
        "conversation_id",
        sa.BigInteger,
        sa.ForeignKey("pager_threads.conversation_id"),
        primary_key=True,
    ),
    sa.Column("extension_id", sa.BigInteger, primary_key=True),
)
sa.Index("ix_pager_thread_members_extension", pager_thread_members.c.extension_id)

# ... and the departments it was addressed to, whose *current* members also belong.
pager_thread_departments = sa.Table(
    "pager_thread_departments",
    metadata,
    sa.Column(
        "conversation_id",
        sa.BigInteger,
        sa.ForeignKey("pager_threads.conversation_id"),
        primary_key=True,
    ),
    sa.Column("department_id", sa.BigInteger, primary_key=True),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("extension_id", sa.BigInteger, nullable=False),  # whose message store
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("conversation_id", sa.BigInteger, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("parties", sa.Text, nullable=False),  # JSON: {"from": {...}, "to": [...]}
    # The members of the message's JSON record that never change, pre-encoded when it is
    # stored, so that reading a page renders no JSON (ringlet/message_json.py).
    sa.Column("fixed_json", sa.Text, nullable=False),
    # The numbers at each end, for the phoneNumber filter (SMS only).
    sa.Column("from_number", sa.String(32), nullable=True),
    sa.Column("to_number", sa.String(32), nullable=True),
    sa.Column("read_status", sa.String(16), nullable=False),
    sa.Column("availability", sa.String(16), nullable=False),
    sa.Column("message_status", sa.String(16), nullable=False),
    sa.Column("pg_to_department", sa.Boolean, nullable=True),
    sa.Column("creation_ms", sa.BigInteger, nullable=False),
    sa.Column("modified_ms", sa.BigInteger, nullable=False),
)
# The list's default query: one extension's newest messages of one availability, walked
# backwards in exactly the list's order (creation time, then id), so that a page reads only its
# own rows. SQLite appends the rowid (= id) to every index anyway; PostgreSQL needs id spelled out
# or it sorts each run of equal creation times.
sa.Index(
    "ix_messages_store",
    messages.c.extension_id,
    messages.c.availability,
    messages.c.creation_ms,
    messages.c.id,
)
# message-sync ISync: what changed in one extension's store since a time.
sa.Index("ix_messages_modified", messages.c.extension_id, messages.c.modified_ms)
# The list of one conversation, in the list's order; deleting a conversation's Alive messages;
# distinctConversations' test that no newer message of a conversation is selected.
sa.Index(
    "ix_messages_conversation",
    messages.c.extension_id,
    messages.c.conversation_id,
    messages.c.availability,
    messages.c.creation_ms,
    messages.c.id,
)
# readStatus=Unread (what apps poll): the unread messages only, in the list's order.
sa.Index(
    "ix_messages_unread",
    messages.c.extension_id,
    messages.c.read_status,
    messages.c.availability,
    messages.c.creation_ms,
    messages.c.id,
)

# A counter per message store, moved by every committed change that can alter what the store
# lists (store/store_versions.py): a page memoised in any process is current exactly while the
# counter stands still. No foreign key: it is bumped at commit time, after everything else.
message_store_versions = sa.Table(
    "message_store_versions",
    metadata,
    sa.Column("extension_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

# The newest message (by creation time, then id) of each conversation in each store, per
# availability: what a distinctConversations list walks (store/conversation_heads.py keeps it,
# store/messages.py reads it), so that the list's cost follows its page, not the number of
# messages in its window. Derived data: a migration or a repair can rebuild it from `messages`.
conversation_heads = sa.Table(
    "conversation_heads",
    metadata,
    sa.Column("extension_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("availability", sa.String(16), primary_key=True),
    sa.Column("conversation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("creation_ms", sa.BigInteger, nullable=False),
    sa.Column("message_id", sa.BigInteger, nullable=False),
)
# A store's conversations, newest head first, in the list's order.
sa.Index(
    "ix_conversation_heads_newest",
    conversation_heads.c.extension_id,
    conversation_heads.c.availability,
    conversation_heads.c.creation_ms,
    conversation_heads.c.message_id,
)

# -- carrier (issue 7): handsets off this server, the simulated carrier, delivery status -----

# Delivery status of an outbound SMS copy (set by store/messages.py: set_delivery_status).
messages.append_column(sa.Column("delivery_error_code", sa.String(16), nullable=True))
messages.append_column(sa.Column("sms_delivery_ms", sa.BigInteger, nullable=True))

# SMS waiting for the carrier: recorded by the send's transaction, handed on by the carrier
# worker (carrier/worker.py). `stage` is "submit" (to hand to the gateway) or "report" (the
# simulator's delivery receipt to come); `lease_ms` is when a claim by a worker runs out.
carrier_outbox = sa.Table(
    "carrier_outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("extension_id", sa.BigInteger, nullable=False),
    sa.Column("message_id", sa.BigInteger, nullable=False),  # the sender's copy
    sa.Column("from_number", sa.String(32), nullable=False),
    sa.Column("to_number", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("due_ms", sa.BigInteger, nullable=False),
    sa.Column("lease_ms", sa.BigInteger, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
)
sa.Index("ix_carrier_outbox_due", carrier_outbox.c.due_ms)

# What each handset sent and received, from the handset's point of view (GET
# /_ringlet/handsets/{n}/messages).
handset_messages = sa.Table(
    "handset_messages",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("handset", sa.String(32), nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("from_number", sa.String(32), nullable=False),
    sa.Column("to_number", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message_id", sa.BigInteger, nullable=True),
    sa.Column("creation_ms", sa.BigInteger, nullable=False),
)
sa.Index("ix_handset_messages_handset", handset_messages.c.handset, handset_messages.c.id)

# Outcomes the simulated carrier applies to SMS sent to a number (POST /_ringlet/carrier/rules).
carrier_rules = sa.Table(
    "carrier_rules",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("to_number", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error_code", sa.String(16), nullable=True),
)
sa.Index("ix_carrier_rules_to", carrier_rules.c.to_number)

# -- WebSocket gateway (ws) ------------------------------------------------------------------

# Tokens of `POST /restapi/oauth/wstoken`, valid for any number of connections until they
# expire (store/ws_tokens.py). A row holds the access token only sealed with the WebSocket token
# itself (ws/sealing.py): the database alone cannot open it. No foreign key to sessions: a
# revoked session's access token simply stops authenticating.
ws_tokens = sa.Table(
    "ws_tokens",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("session_id", sa.BigInteger, nullable=False),  # the OAuth session (WSG-1003)
    sa.Column("sealed_access", sa.Text, nullable=False),
    sa.Column("expires_ms", sa.BigInteger, nullable=False),
)
sa.Index("ix_ws_tokens_expires", ws_tokens.c.expires_ms)
# -- notifications (subscriptions, the outbox, the WebHook delivery journal) -------------------

# A subscription belongs to the user and app that made it (account, extension, app). Its event
# filters are kept as the answer shows them (`~` resolved). A WebHook subscription's delivery
# state lives here too: `delivered_through` is the last outbox event it has been offered (in
# commit order), `failures` the failed attempts at the next one, and the lease says which
# process delivers it (notify/dispatcher.py).
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("extension_id", sa.BigInteger, nullable=False),
    sa.Column("app_id", sa.BigInteger, nullable=False),
    sa.Column("transport", sa.String(16), nullable=False),
    sa.Column("address", sa.Text, nullable=True),
    # Sent back to the receiver in every request, so it cannot be kept hashed.
    sa.Column("verification_token", sa.String(64), nullable=True),
    sa.Column("token_header", sa.String(32), nullable=True),
    sa.Column("ws_session_id", sa.String(64), nullable=True),
    sa.Column("event_filters", sa.Text, nullable=False),  # JSON list
    sa.Column("disabled_filters", sa.Text, nullable=False),  # JSON list of DisabledFilterInfo
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("creation_ms", sa.BigInteger, nullable=False),
    sa.Column("expiration_ms", sa.BigInteger, nullable=False),
    sa.Column("blacklisted_ms", sa.BigInteger, nullable=True),
    sa.Column("blacklisted_reason", sa.Text, nullable=True),
    sa.Column("delivered_through", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
)
sa.Index("ix_subscriptions_owner", subscriptions.c.extension_id, subscriptions.c.app_id)
sa.Index("ix_subscriptions_account", subscriptions.c.account_id)

# The outbox: one row per changed store (or directory entry) per commit, written by the
# change's own transaction (store/outbox.py). Ids are allocated in commit order.
notification_events = sa.Table(
    "notification_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("extension_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "store" or "extension"
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    # Never reuse an id, even once the newest rows are pruned: readers keep their place by id.
    sqlite_autoincrement=True,
)

# The WebHook delivery journal: one row per attempt, with the notification it carried (for
# redelivery).
notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("subscription_id", sa.String(36), nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=True),
    sa.Column("uuid", sa.String(64), nullable=False),
    sa.Column("attempt_ms", sa.BigInteger, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("redelivery", sa.Boolean, nullable=False),
    sa.Column("envelope", sa.Text, nullable=False),
)
sa.Index(
    "ix_notification_attempts_subscription",
    notification_attempts.c.subscription_id,
    notification_attempts.c.id,
)

# -- harden (issue 9): the country an account's phone numbers are read in (ISO 3166-1 alpha-2,
# domain/phone_numbers.py); accounts from before it are in the United States.
accounts.append_column(sa.Column("country", sa.String(2), nullable=False, server_default="US"))
