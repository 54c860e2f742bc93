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
  // The audit trail in chunks (audit-chunks.ts): a row per flushed batch and scope rather than
  // per event. A row of the old table becomes a chunk of one line, its seq kept so that new
  // chunks still sort after it at the same instant; a download seeks a scope's chunks by
  // first_at; SQLite reads MAX(seq) once when it opens, from the seq index.
  `CREATE TABLE audit_chunks (
     scope_id TEXT NOT NULL,
     first_at TEXT NOT NULL,
     last_at TEXT NOT NULL,
     seq BIGINT NOT NULL,
     lines TEXT NOT NULL
   );
   INSERT INTO audit_chunks (scope_id, first_at, last_at, seq, lines) SELECT scope_id, at, at, seq, event FROM audit_events;
   DROP TABLE audit_events;
   CREATE INDEX audit_chunks_scope ON audit_chunks (scope_id, first_at, seq);
   CREATE INDEX audit_chunks_seq ON audit_chunks (seq);`,
];
