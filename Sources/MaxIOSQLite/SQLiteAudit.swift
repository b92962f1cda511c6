import Foundation
import GRDB
import MaxIOStorage

extension SQLiteMetadataStore: AuditStore {
    static func migrateAudit(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE audit_log(
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time_ms INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    actor_id TEXT,
                    tenant_id TEXT,
                    tenant_name TEXT,
                    source_ip TEXT,
                    action TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    result TEXT NOT NULL,
                    request_id TEXT,
                    detail TEXT);
                CREATE INDEX audit_log_time ON audit_log(time_ms);
                CREATE INDEX audit_log_tenant ON audit_log(tenant_id, id);
                CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """)
    }

    package func appendAudit(_ entries: [AuditEntry]) async throws {
        try await pool.write { db in
            for e in entries {
                try db.execute(
                    sql: """
                        INSERT INTO audit_log(time_ms, actor, actor_id, tenant_id, tenant_name, source_ip, action,
                            resource, result, request_id, detail)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Self.milliseconds(e.time), e.actor, e.actorID, e.tenantID, e.tenantName, e.sourceIP,
                        e.action, e.resource, e.result, e.requestID, e.detail,
                    ])
            }
        }
    }

    package func auditEntries(_ filter: AuditFilter) async throws -> [AuditEntry] {
        var clauses: [String] = []
        var args = StatementArguments()
        if let d = filter.since {
            clauses.append("time_ms >= ?")
            args += [Self.milliseconds(d)]
        }
        if let d = filter.until {
            clauses.append("time_ms < ?")
            args += [Self.milliseconds(d)]
        }
        if let v = filter.actor {
            clauses.append("actor = ?")
            args += [v]
        }
        if let v = filter.tenantID {
            clauses.append("tenant_id = ?")
            args += [v]
        }
        if let v = filter.action {
            if v.hasSuffix("*") {
                // A prefix: compare as a range (LIKE would treat `_` and `%` in the name as patterns).
                let prefix = String(v.dropLast())
                clauses.append("action >= ? AND action < ?")
                args += [prefix]
                args += [prefix + "\u{10FFFF}"]
            } else {
                clauses.append("action = ?")
                args += [v]
            }
        }
        if let v = filter.result {
            clauses.append("result = ?")
            args += [v]
        }
        if let v = filter.before {
            clauses.append("id < ?")
            args += [v]
        }
        let sql =
            "SELECT * FROM audit_log" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY id DESC LIMIT ?"
        // One more than the largest page, so that a caller can tell whether another page follows.
        args += [max(1, min(filter.limit, 1001))]
        let arguments = args
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                AuditEntry(
                    id: row["id"], time: Date(timeIntervalSince1970: Double(row["time_ms"] as Int64) / 1000),
                    actor: row["actor"],
                    actorID: row["actor_id"], tenantID: row["tenant_id"], tenantName: row["tenant_name"],
                    sourceIP: row["source_ip"], action: row["action"], resource: row["resource"],
                    result: row["result"], requestID: row["request_id"], detail: row["detail"])
            }
        }
    }

    /// Times are kept in whole milliseconds, the precision the API prints and parses, so that `since` with an
    /// entry's printed time includes it.
    static func milliseconds(_ d: Date) -> Int64 {
        Int64((d.timeIntervalSince1970 * 1000).rounded())
    }

    package func pruneAudit(before date: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM audit_log WHERE time_ms < ?", arguments: [Self.milliseconds(date)])
            return db.changesCount
        }
    }
}

extension SQLiteMetadataStore: SettingsStore {
    static func migrateSettings(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE settings(
                    name TEXT PRIMARY KEY NOT NULL,
                    value TEXT NOT NULL,
                    updated_at REAL NOT NULL,
                    updated_by TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
    }

    package func storedSettings() async throws -> [String: String] {
        try await pool.read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, value FROM settings") { out[row["name"]] = row["value"] }
            return out
        }
    }

    package func storeSetting(name: String, value: String, by actor: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO settings(name, value, updated_at, updated_by) VALUES (?, ?, ?, ?)",
                arguments: [name, value, Date().timeIntervalSince1970, actor])
        }
    }

    package func deleteSetting(name: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM settings WHERE name = ?", arguments: [name]) }
    }
}
