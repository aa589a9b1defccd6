-- A journal as the first releases with promotions wrote it: events without ignored_reason,
-- promotions without previous_tag, merge_request or merge_request_url, no merge_notices table.
CREATE TABLE events (
  id TEXT PRIMARY KEY, received_at TEXT NOT NULL, received_epoch INTEGER NOT NULL, source TEXT NOT NULL,
  delivery_id TEXT, registry TEXT NOT NULL, repository TEXT NOT NULL, tag TEXT, digest TEXT,
  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, commit_id TEXT, merge_request_url TEXT);
CREATE TABLE event_steps (event_id TEXT NOT NULL, at TEXT NOT NULL, step TEXT NOT NULL, detail TEXT);
CREATE TABLE promotions (
  id TEXT PRIMARY KEY, chain TEXT NOT NULL, image TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT, event_id TEXT NOT NULL,
  step INTEGER NOT NULL, environment TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE promotion_steps (promotion_id TEXT NOT NULL, at TEXT NOT NULL, environment TEXT NOT NULL,
  state TEXT NOT NULL, detail TEXT NOT NULL);
INSERT INTO promotions VALUES ('0190a5c0-0000-7000-8000-000000000001', 'api-release', 'ghcr.io/acme/api', '1.4.3', NULL, 'e1',
  1, 'acc', 'waiting-for-merge', '1.4.3 is in acc''s merge request; waiting for it to be merged',
  '2026-11-01T10:00:00Z', '2026-11-01T10:00:00Z');
