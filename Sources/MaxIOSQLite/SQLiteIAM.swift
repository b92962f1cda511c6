import Foundation
import GRDB
import MaxIOIAM

/// The identity store in the same catalog as the buckets, so quotas and bucket ownership are checked in one
/// transaction with the change they limit.
extension SQLiteMetadataStore: IAMStore {
    // MARK: rows

    static func tenantRecord(_ row: Row) -> TenantRecord {
        TenantRecord(
            id: row["id"], name: row["name"], status: AccountStatus(rawValue: row["status"]) ?? .suspended,
            maxStorageBytes: row["max_storage_bytes"], maxBuckets: row["max_buckets"],
            maxAccessKeys: row["max_access_keys"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    static func userRecord(_ row: Row) -> UserRecord {
        let tenant: String = row["tenant"]
        return UserRecord(
            id: row["id"], name: row["name"], tenantID: tenant.isEmpty ? nil : tenant,
            role: Role(rawValue: row["role"]) ?? .readonly, status: AccountStatus(rawValue: row["status"]) ?? .disabled,
            displayName: row["display_name"], passwordHash: row["password_hash"],
            mustChangePassword: row["must_change_password"], totpSecret: row["totp_secret"],
            failedLogins: row["failed_logins"],
            lockedUntil: (row["locked_until"] as Double?).map { Date(timeIntervalSince1970: $0) },
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    static func keyRecord(_ row: Row) -> AccessKeyRecord {
        AccessKeyRecord(
            id: row["id"], userID: row["user_id"], sealedSecret: Array(row["secret"] as Data),
            status: AccountStatus(rawValue: row["status"]) ?? .disabled,
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            lastUsed: (row["last_used"] as Double?).map { Date(timeIntervalSince1970: $0) })
    }

    static func grantRecord(_ row: Row) -> BucketGrant? {
        guard let subject = GrantSubject(kind: row["subject_kind"], value: row["subject"]),
            let level = AccessLevel(rawValue: row["level"])
        else { return nil }
        return BucketGrant(
            bucket: row["bucket"], subject: subject, level: level,
            expiresAt: (row["expires_at"] as Double?).map { Date(timeIntervalSince1970: $0) })
    }

    static func groups(_ db: Database, userID: String) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(sql: "SELECT group_name FROM group_members WHERE user_id = ? ORDER BY group_name"),
            arguments: [userID])
    }

    // MARK: tenants

    package func createTenant(_ t: TenantRecord) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM tenants WHERE name = ?", arguments: [t.name]) == true {
                throw IAMError.alreadyExists("A tenant named \(t.name) already exists.")
            }
            try db.execute(
                sql: """
                    INSERT INTO tenants(id, name, status, max_storage_bytes, max_buckets, max_access_keys, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    t.id, t.name, t.status.rawValue, t.maxStorageBytes, t.maxBuckets, t.maxAccessKeys,
                    t.createdAt.timeIntervalSince1970,
                ])
        }
    }

    package func tenant(id: String) async throws -> TenantRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tenants WHERE id = ?", arguments: [id]).map(Self.tenantRecord)
        }
    }

    package func tenant(named name: String) async throws -> TenantRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM tenants WHERE name = ?", arguments: [name]).map(
                Self.tenantRecord)
        }
    }

    package func listTenants() async throws -> [TenantRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tenants ORDER BY name").map(Self.tenantRecord)
        }
    }

    package func updateTenant(_ t: TenantRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE tenants SET status = ?, max_storage_bytes = ?, max_buckets = ?, max_access_keys = ?
                    WHERE id = ?
                    """,
                arguments: [t.status.rawValue, t.maxStorageBytes, t.maxBuckets, t.maxAccessKeys, t.id])
            if db.changesCount == 0 { throw IAMError.notFound("No tenant \(t.name).") }
        }
    }

    package func deleteTenant(id: String, force: Bool) async throws {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM tenants WHERE id = ?", arguments: [id]) == true else {
                throw IAMError.notFound("No such tenant.")
            }
            let buckets =
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM buckets WHERE tenant = ?", arguments: [id]) ?? 0
            if buckets > 0 {
                throw IAMError.notEmpty("The tenant still owns \(buckets) bucket(s); delete them first.")
            }
            let users = try String.fetchAll(db, sql: "SELECT id FROM users WHERE tenant = ?", arguments: [id])
            if !users.isEmpty && !force {
                throw IAMError.notEmpty("The tenant still has \(users.count) user(s); delete them or use --force.")
            }
            for u in users { try Self.removeUser(db, id: u) }
            try db.execute(
                sql: "DELETE FROM group_members WHERE group_name IN (SELECT name FROM groups WHERE tenant = ?)",
                arguments: [id])
            try db.execute(
                sql: """
                    DELETE FROM bucket_grants WHERE subject_kind = 'group'
                        AND subject IN (SELECT name FROM groups WHERE tenant = ?)
                    """, arguments: [id])
            try db.execute(sql: "DELETE FROM groups WHERE tenant = ?", arguments: [id])
            try db.execute(
                sql: "DELETE FROM bucket_grants WHERE subject_kind = 'tenant' AND subject = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM tenants WHERE id = ?", arguments: [id])
        }
    }

    package func tenantUsage(id: String) async throws -> TenantUsage {
        try await pool.read { db in
            var u = TenantUsage()
            if let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT COALESCE(SUM(used_bytes), 0) AS b, COALESCE(SUM(object_count), 0) AS o, COUNT(*) AS n FROM buckets WHERE tenant = ?",
                arguments: [id])
            {
                u.bytes = row["b"]
                u.objects = row["o"]
                u.buckets = row["n"]
            }
            u.accessKeys =
                try Int64.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM access_keys k JOIN users u ON u.id = k.user_id WHERE u.tenant = ?",
                    arguments: [id]) ?? 0
            return u
        }
    }

    // MARK: users

    package func createUser(_ u: UserRecord) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [u.name]) == true {
                throw IAMError.alreadyExists("A user named \(u.name) already exists.")
            }
            if let t = u.tenantID,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM tenants WHERE id = ?", arguments: [t]) != true
            {
                throw IAMError.notFound("No such tenant.")
            }
            try db.execute(
                sql: """
                    INSERT INTO users(id, name, tenant, role, status, display_name, password_hash, must_change_password,
                        totp_secret, failed_logins, locked_until, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    u.id, u.name, u.tenantID ?? "", u.role.rawValue, u.status.rawValue, u.displayName, u.passwordHash,
                    u.mustChangePassword, u.totpSecret, u.failedLogins, u.lockedUntil?.timeIntervalSince1970,
                    u.createdAt.timeIntervalSince1970,
                ])
        }
    }

    package func user(id: String) async throws -> UserRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(Self.userRecord)
        }
    }

    package func user(named name: String) async throws -> UserRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map(Self.userRecord)
        }
    }

    package func listUsers(tenantID: String?) async throws -> [UserRecord] {
        try await pool.read { db in
            if let tenantID {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM users WHERE tenant = ? ORDER BY name", arguments: [tenantID]
                ).map(Self.userRecord)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY name").map(Self.userRecord)
        }
    }

    package func updateUser(_ u: UserRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE users SET role = ?, status = ?, display_name = ?, password_hash = ?, must_change_password = ?,
                        totp_secret = ?, failed_logins = ?, locked_until = ? WHERE id = ?
                    """,
                arguments: [
                    u.role.rawValue, u.status.rawValue, u.displayName, u.passwordHash, u.mustChangePassword,
                    u.totpSecret, u.failedLogins, u.lockedUntil?.timeIntervalSince1970, u.id,
                ])
            if db.changesCount == 0 { throw IAMError.notFound("No user \(u.name).") }
        }
    }

    package func recordFailedLogin(userID: String, threshold: Int, lockUntil: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE users SET
                        locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END,
                        failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END
                    WHERE id = ?
                    """, arguments: [threshold, lockUntil.timeIntervalSince1970, threshold, userID])
        }
    }

    package func clearFailedLogins(userID: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", arguments: [userID])
        }
    }

    package func deleteUser(id: String) async throws {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [id]) == true else {
                throw IAMError.notFound("No such user.")
            }
            try Self.removeUser(db, id: id)
        }
    }

    static func removeUser(_ db: Database, id: String) throws {
        try db.execute(sql: "DELETE FROM access_keys WHERE user_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM user_2fa WHERE user_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM group_members WHERE user_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM bucket_grants WHERE subject_kind = 'user' AND subject = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM sessions WHERE user_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
    }

    // MARK: access keys

    package func createAccessKey(_ k: AccessKeyRecord) async throws {
        try await pool.write { db in
            guard
                let tenant = try String.fetchOne(
                    db, sql: "SELECT tenant FROM users WHERE id = ?", arguments: [k.userID])
            else { throw IAMError.notFound("No such user.") }
            if !tenant.isEmpty,
                let max = try Int64.fetchOne(
                    db, sql: "SELECT max_access_keys FROM tenants WHERE id = ?", arguments: [tenant]), max > 0
            {
                let count =
                    try Int64.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM access_keys k JOIN users u ON u.id = k.user_id WHERE u.tenant = ?",
                        arguments: [tenant]) ?? 0
                if count >= max {
                    throw IAMError.quotaExceeded("The tenant's access key quota (\(max)) is reached.")
                }
            }
            try db.execute(
                sql:
                    "INSERT INTO access_keys(id, user_id, secret, status, created_at, last_used) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    k.id, k.userID, Data(k.sealedSecret), k.status.rawValue, k.createdAt.timeIntervalSince1970,
                    k.lastUsed?.timeIntervalSince1970,
                ])
        }
    }

    package func accessKey(id: String) async throws -> AccessKeyRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM access_keys WHERE id = ?", arguments: [id]).map(Self.keyRecord)
        }
    }

    package func listAccessKeys(userID: String?) async throws -> [AccessKeyRecord] {
        try await pool.read { db in
            if let userID {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM access_keys WHERE user_id = ? ORDER BY created_at, id", arguments: [userID]
                ).map(Self.keyRecord)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM access_keys ORDER BY created_at, id").map(Self.keyRecord)
        }
    }

    package func setAccessKeyStatus(id: String, status: AccountStatus) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE access_keys SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
            if db.changesCount == 0 { throw IAMError.notFound("No access key \(id).") }
        }
    }

    package func setAccessKeySecret(id: String, sealed: [UInt8]) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE access_keys SET secret = ? WHERE id = ?", arguments: [Data(sealed), id])
            if db.changesCount == 0 { throw IAMError.notFound("No access key \(id).") }
        }
    }

    package func deleteAccessKey(id: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM access_keys WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw IAMError.notFound("No access key \(id).") }
        }
    }

    package func touchAccessKey(id: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE access_keys SET last_used = ? WHERE id = ?", arguments: [at.timeIntervalSince1970, id])
        }
    }

    package func keyOwner(accessKey: String) async throws -> (
        key: AccessKeyRecord, user: UserRecord, tenant: TenantRecord?, groups: [String]
    )? {
        try await pool.read { db in
            guard
                let keyRow = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM access_keys WHERE id = ?"), arguments: [accessKey]),
                let userRow = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [keyRow["user_id"]])
            else { return nil }
            let user = Self.userRecord(userRow)
            let tenant = try user.tenantID.flatMap {
                try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM tenants WHERE id = ?"), arguments: [$0]).map(
                    Self.tenantRecord)
            }
            return (Self.keyRecord(keyRow), user, tenant, try Self.groups(db, userID: user.id))
        }
    }

    package func membership(userID: String) async throws -> (tenant: TenantRecord?, groups: [String]) {
        try await pool.read { db in
            let tenantID = try String.fetchOne(db, sql: "SELECT tenant FROM users WHERE id = ?", arguments: [userID])
            let tenant = try tenantID.flatMap { id -> TenantRecord? in
                if id.isEmpty { return nil }
                return try Row.fetchOne(db, sql: "SELECT * FROM tenants WHERE id = ?", arguments: [id]).map(
                    Self.tenantRecord)
            }
            return (tenant, try Self.groups(db, userID: userID))
        }
    }

    // MARK: groups

    package func createGroup(_ g: GroupRecord) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE name = ?", arguments: [g.name]) == true {
                throw IAMError.alreadyExists("A group named \(g.name) already exists.")
            }
            try db.execute(
                sql: "INSERT INTO groups(name, tenant, created_at) VALUES (?, ?, ?)",
                arguments: [g.name, g.tenantID ?? "", g.createdAt.timeIntervalSince1970])
        }
    }

    static func groupRecord(_ db: Database, _ row: Row) throws -> GroupRecord {
        let tenant: String = row["tenant"]
        let name: String = row["name"]
        let members = try String.fetchAll(
            db, sql: "SELECT user_id FROM group_members WHERE group_name = ? ORDER BY user_id", arguments: [name])
        return GroupRecord(
            name: name, tenantID: tenant.isEmpty ? nil : tenant, members: members,
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    package func group(named name: String) async throws -> GroupRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM groups WHERE name = ?", arguments: [name]).map {
                try Self.groupRecord(db, $0)
            }
        }
    }

    package func listGroups(tenantID: String?) async throws -> [GroupRecord] {
        try await pool.read { db in
            let rows =
                try tenantID.map {
                    try Row.fetchAll(db, sql: "SELECT * FROM groups WHERE tenant = ? ORDER BY name", arguments: [$0])
                } ?? Row.fetchAll(db, sql: "SELECT * FROM groups ORDER BY name")
            return try rows.map { try Self.groupRecord(db, $0) }
        }
    }

    package func deleteGroup(named name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM groups WHERE name = ?", arguments: [name])
            if db.changesCount == 0 { throw IAMError.notFound("No group \(name).") }
            try db.execute(sql: "DELETE FROM group_members WHERE group_name = ?", arguments: [name])
            try db.execute(
                sql: "DELETE FROM bucket_grants WHERE subject_kind = 'group' AND subject = ?", arguments: [name])
        }
    }

    package func addGroupMember(group: String, userID: String) async throws {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM groups WHERE name = ?", arguments: [group]) == true else {
                throw IAMError.notFound("No group \(group).")
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO group_members(group_name, user_id) VALUES (?, ?)",
                arguments: [group, userID])
        }
    }

    package func removeGroupMember(group: String, userID: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM group_members WHERE group_name = ? AND user_id = ?", arguments: [group, userID])
            if db.changesCount == 0 { throw IAMError.notFound("The user is not a member of \(group).") }
        }
    }

    // MARK: grants

    package func grant(_ g: BucketGrant) async throws {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM buckets WHERE name = ?", arguments: [g.bucket]) == true
            else { throw IAMError.notFound("No bucket \(g.bucket).") }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO bucket_grants(bucket, subject_kind, subject, level, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    g.bucket, g.subject.kind, g.subject.value, g.level.rawValue, g.expiresAt?.timeIntervalSince1970,
                ])
        }
    }

    package func revoke(bucket: String, subject: GrantSubject) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM bucket_grants WHERE bucket = ? AND subject_kind = ? AND subject = ?",
                arguments: [bucket, subject.kind, subject.value])
            if db.changesCount == 0 { throw IAMError.notFound("No such grant on \(bucket).") }
        }
    }

    package func grants(bucket: String) async throws -> [BucketGrant] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM bucket_grants WHERE bucket = ? ORDER BY subject_kind, subject"),
                arguments: [bucket]
            ).compactMap(Self.grantRecord)
        }
    }

    // MARK: sessions

    package func createSession(_ s: SessionRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE expires_at < ?", arguments: [Date().timeIntervalSince1970])
            try db.execute(
                sql:
                    "INSERT INTO sessions(token_hash, user_id, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    s.tokenHash, s.userID, s.createdAt.timeIntervalSince1970, s.lastSeen.timeIntervalSince1970,
                    s.expiresAt.timeIntervalSince1970,
                ])
        }
    }

    package func session(tokenHash: String) async throws -> SessionRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE token_hash = ?", arguments: [tokenHash]).map {
                SessionRecord(
                    tokenHash: $0["token_hash"], userID: $0["user_id"],
                    createdAt: Date(timeIntervalSince1970: $0["created_at"]),
                    lastSeen: Date(timeIntervalSince1970: $0["last_seen"]),
                    expiresAt: Date(timeIntervalSince1970: $0["expires_at"]))
            }
        }
    }

    package func touchSession(tokenHash: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE sessions SET last_seen = ? WHERE token_hash = ?",
                arguments: [at.timeIntervalSince1970, tokenHash])
        }
    }

    package func deleteSessions(userID: String, except: String?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM sessions WHERE user_id = ? AND token_hash != ?", arguments: [userID, except ?? ""])
        }
    }

    package func deleteSession(tokenHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [tokenHash])
        }
    }
}

extension SQLiteMetadataStore {
    static func migrateTwoFactor(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE user_2fa(
                    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    pending BLOB,
                    backup_codes TEXT NOT NULL DEFAULT '[]',
                    last_counter INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                """)
    }

    package func twoFactor(userID: String) async throws -> TwoFactorRecord {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM user_2fa WHERE user_id = ?", arguments: [userID])
            else { return TwoFactorRecord() }
            let codes = (row["backup_codes"] as String).data(using: .utf8).flatMap {
                try? JSONDecoder().decode([String].self, from: $0)
            }
            return TwoFactorRecord(
                pending: (row["pending"] as Data?).map { Array($0) }, backupCodes: codes ?? [],
                lastCounter: row["last_counter"])
        }
    }

    package func setTwoFactorPending(userID: String, sealed: [UInt8]?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO user_2fa(user_id, pending) VALUES (?, ?)
                    ON CONFLICT(user_id) DO UPDATE SET pending = excluded.pending
                    """, arguments: [userID, sealed.map { Data($0) }])
        }
    }

    package func setTwoFactor(userID: String, sealedSecret: String?, backupCodes: [String]) async throws {
        let codes = String(decoding: try JSONEncoder().encode(backupCodes), as: UTF8.self)
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET totp_secret = ? WHERE id = ?", arguments: [sealedSecret, userID])
            if db.changesCount == 0 { throw IAMError.notFound("No such user.") }
            if sealedSecret == nil {
                try db.execute(sql: "DELETE FROM user_2fa WHERE user_id = ?", arguments: [userID])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO user_2fa(user_id, pending, backup_codes) VALUES (?, NULL, ?)
                        ON CONFLICT(user_id) DO UPDATE SET pending = NULL, backup_codes = excluded.backup_codes
                        """, arguments: [userID, codes])
            }
        }
    }

    package func setBackupCodes(userID: String, hashes: [String]) async throws {
        let codes = String(decoding: try JSONEncoder().encode(hashes), as: UTF8.self)
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE user_2fa SET backup_codes = ? WHERE user_id = ?", arguments: [codes, userID])
        }
    }

    package func useTOTPCounter(userID: String, counter: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO user_2fa(user_id, last_counter) VALUES (?, ?)
                    ON CONFLICT(user_id) DO UPDATE SET last_counter = excluded.last_counter
                    WHERE user_2fa.last_counter < excluded.last_counter
                    """, arguments: [userID, counter])
            return db.changesCount > 0
        }
    }

    package func useBackupCode(userID: String, hash: String) async throws -> Bool {
        try await pool.write { db in
            guard
                let text = try String.fetchOne(
                    db, sql: "SELECT backup_codes FROM user_2fa WHERE user_id = ?", arguments: [userID]),
                var codes = try? JSONDecoder().decode([String].self, from: Data(text.utf8)),
                let i = codes.firstIndex(of: hash)
            else { return false }
            codes.remove(at: i)
            try db.execute(
                sql: "UPDATE user_2fa SET backup_codes = ? WHERE user_id = ?",
                arguments: [String(decoding: try JSONEncoder().encode(codes), as: UTF8.self), userID])
            return true
        }
    }
}
