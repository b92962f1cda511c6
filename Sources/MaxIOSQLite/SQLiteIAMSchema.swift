import GRDB

extension SQLiteMetadataStore {
    /// Tenants, users, keys, groups, grants, sessions, quota reservations, and bucket usage kept by triggers
    /// in the transaction that changes the objects (so no code path can forget it).
    static func migrateIAM(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE buckets ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
                ALTER TABLE buckets ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE buckets ADD COLUMN object_count INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE buckets ADD COLUMN max_bytes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE buckets ADD COLUMN max_objects INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE buckets ADD COLUMN policy TEXT;
                CREATE INDEX buckets_by_tenant ON buckets(tenant);
                UPDATE buckets SET
                    used_bytes = (SELECT COALESCE(SUM(size), 0) FROM objects o WHERE o.bucket = buckets.name)
                        + (SELECT COALESCE(SUM(size), 0) FROM object_versions v WHERE v.bucket = buckets.name)
                        + (SELECT COALESCE(SUM(p.size), 0) FROM upload_parts p JOIN uploads u USING (upload_id)
                            WHERE u.bucket = buckets.name),
                    object_count = (SELECT COUNT(*) FROM objects o WHERE o.bucket = buckets.name AND o.delete_marker = 0)
                        + (SELECT COUNT(*) FROM object_versions v WHERE v.bucket = buckets.name AND v.delete_marker = 0);

                CREATE TRIGGER usage_objects_insert AFTER INSERT ON objects BEGIN
                    UPDATE buckets SET used_bytes = used_bytes + NEW.size,
                        object_count = object_count + 1 - NEW.delete_marker WHERE name = NEW.bucket;
                END;
                CREATE TRIGGER usage_objects_delete AFTER DELETE ON objects BEGIN
                    UPDATE buckets SET used_bytes = used_bytes - OLD.size,
                        object_count = object_count - 1 + OLD.delete_marker WHERE name = OLD.bucket;
                END;
                CREATE TRIGGER usage_objects_update AFTER UPDATE OF size, delete_marker ON objects BEGIN
                    UPDATE buckets SET used_bytes = used_bytes - OLD.size + NEW.size,
                        object_count = object_count + OLD.delete_marker - NEW.delete_marker WHERE name = NEW.bucket;
                END;
                CREATE TRIGGER usage_versions_insert AFTER INSERT ON object_versions BEGIN
                    UPDATE buckets SET used_bytes = used_bytes + NEW.size,
                        object_count = object_count + 1 - NEW.delete_marker WHERE name = NEW.bucket;
                END;
                CREATE TRIGGER usage_versions_delete AFTER DELETE ON object_versions BEGIN
                    UPDATE buckets SET used_bytes = used_bytes - OLD.size,
                        object_count = object_count - 1 + OLD.delete_marker WHERE name = OLD.bucket;
                END;
                CREATE TRIGGER usage_parts_insert AFTER INSERT ON upload_parts BEGIN
                    UPDATE buckets SET used_bytes = used_bytes + NEW.size
                        WHERE name = (SELECT bucket FROM uploads WHERE upload_id = NEW.upload_id);
                END;
                CREATE TRIGGER usage_parts_delete AFTER DELETE ON upload_parts BEGIN
                    UPDATE buckets SET used_bytes = used_bytes - OLD.size
                        WHERE name = (SELECT bucket FROM uploads WHERE upload_id = OLD.upload_id);
                END;

                CREATE TABLE quota_reservations(
                    id TEXT PRIMARY KEY NOT NULL,
                    bucket TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    objects INTEGER NOT NULL,
                    expires_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX reservations_by_bucket ON quota_reservations(bucket);
                CREATE INDEX reservations_by_tenant ON quota_reservations(tenant);
                CREATE INDEX reservations_by_expiry ON quota_reservations(expires_at);

                CREATE TABLE tenants(
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    max_storage_bytes INTEGER NOT NULL DEFAULT 0,
                    max_buckets INTEGER NOT NULL DEFAULT 0,
                    max_access_keys INTEGER NOT NULL DEFAULT 0,
                    created_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE users(
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    tenant TEXT NOT NULL DEFAULT '',
                    role TEXT NOT NULL,
                    status TEXT NOT NULL,
                    display_name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    must_change_password INTEGER NOT NULL DEFAULT 0,
                    totp_secret TEXT,
                    failed_logins INTEGER NOT NULL DEFAULT 0,
                    locked_until DOUBLE,
                    created_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX users_by_tenant ON users(tenant);
                CREATE TABLE access_keys(
                    id TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL,
                    secret BLOB NOT NULL,
                    status TEXT NOT NULL,
                    created_at DOUBLE NOT NULL,
                    last_used DOUBLE
                ) WITHOUT ROWID;
                CREATE INDEX access_keys_by_user ON access_keys(user_id);
                CREATE TABLE groups(
                    name TEXT PRIMARY KEY NOT NULL,
                    tenant TEXT NOT NULL DEFAULT '',
                    created_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE group_members(
                    group_name TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    PRIMARY KEY(group_name, user_id)
                ) WITHOUT ROWID;
                CREATE INDEX group_members_by_user ON group_members(user_id);
                CREATE TABLE bucket_grants(
                    bucket TEXT NOT NULL,
                    subject_kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    level TEXT NOT NULL,
                    expires_at DOUBLE,
                    PRIMARY KEY(bucket, subject_kind, subject)
                ) WITHOUT ROWID;
                CREATE TABLE sessions(
                    token_hash TEXT PRIMARY KEY NOT NULL,
                    user_id TEXT NOT NULL,
                    created_at DOUBLE NOT NULL,
                    last_seen DOUBLE NOT NULL,
                    expires_at DOUBLE NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX sessions_by_user ON sessions(user_id);
                """)
    }
}
