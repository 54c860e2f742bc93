// Schema migrations, applied in order once each. Append; never edit a released step.
// The SQL stays portable to PostgreSQL where that costs nothing (TEXT/BIGINT, no JSON functions).
export const migrations: readonly string[] = [
  `CREATE TABLE entities (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     parent_id TEXT NOT NULL DEFAULT '',
     name TEXT,
     seq BIGINT NOT NULL,
     expires_at BIGINT,
     doc TEXT NOT NULL,
     PRIMARY KEY (kind, id)
   );
   CREATE UNIQUE INDEX entities_name ON entities (kind, parent_id, name);
   CREATE INDEX entities_by_name ON entities (kind, name);
   CREATE INDEX entities_children ON entities (kind, parent_id, seq);
   CREATE INDEX entities_seq ON entities (seq);
   CREATE TABLE audit_events (
     scope_id TEXT NOT NULL,
     at TEXT NOT NULL,
     seq BIGINT NOT NULL,
     event TEXT NOT NULL
   );
   CREATE INDEX audit_events_scope ON audit_events (scope_id, at, seq);
   CREATE INDEX audit_events_seq ON audit_events (seq);`,
];
