import Foundation
import MaxIOCore

/// Administration with its rules: global administrators manage everything; tenant administrators the users,
/// keys, groups and grants of their tenant; users their own keys and password.
extension IAMService {
    static func denied() -> IAMError { .forbidden("You are not allowed to do this.") }

    func requireGlobalAdmin(_ actor: Principal) throws {
        guard actor.isGlobalAdmin else { throw Self.denied() }
    }

    /// The actor may manage users, keys and groups of this tenant (nil = global).
    func canManage(tenant: String?, _ actor: Principal) -> Bool {
        actor.isGlobalAdmin || (actor.role == .tenantAdmin && tenant != nil && actor.tenantID == tenant)
    }

    static func validName(_ name: String, what: String) throws {
        let ok =
            (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || "-_.@".unicodeScalars.contains($0)
            }
        if !ok {
            throw IAMError.invalid("A \(what) name has 1 to 64 letters, digits, '-', '_', '.' or '@'.")
        }
    }

    // MARK: tenants

    package struct TenantChanges: Sendable {
        package var maxStorageBytes: Int64?
        package var maxBuckets: Int64?
        package var maxAccessKeys: Int64?
        package var status: AccountStatus?
        package init(
            maxStorageBytes: Int64? = nil, maxBuckets: Int64? = nil, maxAccessKeys: Int64? = nil,
            status: AccountStatus? = nil
        ) {
            self.maxStorageBytes = maxStorageBytes
            self.maxBuckets = maxBuckets
            self.maxAccessKeys = maxAccessKeys
            self.status = status
        }

        func apply(to t: inout TenantRecord) throws {
            for v in [maxStorageBytes, maxBuckets, maxAccessKeys] {
                if let v, v < 0 { throw IAMError.invalid("Quotas are 0 (unlimited) or positive.") }
            }
            if let v = maxStorageBytes { t.maxStorageBytes = v }
            if let v = maxBuckets { t.maxBuckets = v }
            if let v = maxAccessKeys { t.maxAccessKeys = v }
            if let s = status {
                guard s == .active || s == .suspended else {
                    throw IAMError.invalid("A tenant is active or suspended.")
                }
                t.status = s
            }
        }
    }

    package func createTenant(name: String, _ changes: TenantChanges, by actor: Principal) async throws -> TenantRecord
    {
        try requireGlobalAdmin(actor)
        try Self.validName(name, what: "tenant")
        var t = TenantRecord(id: randomHexID(bytes: 8), name: name)
        try changes.apply(to: &t)
        try await store.createTenant(t)
        return t
    }

    package func tenant(named name: String, by actor: Principal) async throws -> TenantRecord {
        guard let t = try await store.tenant(named: name), actor.isGlobalAdmin || actor.tenantID == t.id else {
            throw IAMError.notFound("No tenant \(name).")
        }
        return t
    }

    package func listTenants(by actor: Principal) async throws -> [TenantRecord] {
        let all = try await store.listTenants()
        return actor.isGlobalAdmin ? all : all.filter { $0.id == actor.tenantID }
    }

    package func updateTenant(name: String, _ changes: TenantChanges, by actor: Principal) async throws -> TenantRecord
    {
        try requireGlobalAdmin(actor)
        var t = try await tenant(named: name, by: actor)
        try changes.apply(to: &t)
        try await store.updateTenant(t)
        invalidate()
        return t
    }

    package func deleteTenant(name: String, force: Bool, by actor: Principal) async throws {
        try requireGlobalAdmin(actor)
        let t = try await tenant(named: name, by: actor)
        try await store.deleteTenant(id: t.id, force: force)
        invalidate()
    }

    // MARK: users

    package func createUser(
        name: String, password: String, tenantName: String?, role: Role, temporary: Bool = false,
        by actor: Principal
    ) async throws -> UserRecord {
        try Self.validName(name, what: "user")
        var tenant: TenantRecord?
        if let tenantName { tenant = try await self.tenant(named: tenantName, by: actor) }
        guard canManage(tenant: tenant?.id, actor) else { throw Self.denied() }
        if tenant == nil && role != .admin {
            throw IAMError.invalid("A user without a tenant is a global administrator: use --role admin or --tenant.")
        }
        if tenant != nil && role == .admin {
            throw IAMError.invalid("The admin role is global: a tenant's administrator has the role tenant-admin.")
        }
        if let why = PasswordHasher.policyViolation(password) { throw IAMError.invalid(why) }
        let user = UserRecord(
            id: UserRecord.newID(), name: name, tenantID: tenant?.id, role: role, displayName: name,
            passwordHash: try PasswordHasher.hash(password), mustChangePassword: temporary)
        try await store.createUser(user)
        return user
    }

    /// A user the actor may see: itself, or one it may manage.
    package func user(named name: String, by actor: Principal) async throws -> UserRecord {
        guard let u = try await store.user(named: name),
            u.id == actor.userID || canManage(tenant: u.tenantID, actor)
        else { throw IAMError.notFound("No user \(name).") }
        return u
    }

    package func listUsers(tenantName: String?, by actor: Principal) async throws -> [UserRecord] {
        if let tenantName {
            let t = try await tenant(named: tenantName, by: actor)
            guard canManage(tenant: t.id, actor) else { throw Self.denied() }
            return try await store.listUsers(tenantID: t.id)
        }
        if actor.isGlobalAdmin { return try await store.listUsers(tenantID: nil) }
        if actor.role == .tenantAdmin, let t = actor.tenantID { return try await store.listUsers(tenantID: t) }
        return try await store.user(id: actor.userID).map { [$0] } ?? []
    }

    package struct UserChanges: Sendable {
        package var password: String?
        package var role: Role?
        package var status: AccountStatus?
        package var displayName: String?
        package var temporary: Bool?
        package var unlock = false
        package init(
            password: String? = nil, role: Role? = nil, status: AccountStatus? = nil, displayName: String? = nil,
            temporary: Bool? = nil, unlock: Bool = false
        ) {
            self.password = password
            self.role = role
            self.status = status
            self.displayName = displayName
            self.temporary = temporary
            self.unlock = unlock
        }
    }

    package func updateUser(name: String, _ c: UserChanges, by actor: Principal) async throws -> UserRecord {
        var u = try await user(named: name, by: actor)
        let manager = canManage(tenant: u.tenantID, actor)
        // Users change their own display name here; their password with `changePassword` (it needs the current
        // one); the rest is for their administrators.
        if !manager && (c.role != nil || c.status != nil || c.temporary != nil || c.unlock) { throw Self.denied() }
        if c.password != nil && (!manager || u.id == actor.userID) {
            throw IAMError.forbidden("Change your own password with the current one (POST /api/v1/auth/password).")
        }
        if let role = c.role {
            if (u.tenantID == nil) != (role == .admin) {
                throw IAMError.invalid("The admin role is for global users only; tenant users have other roles.")
            }
            if u.name == Self.adminName && role != .admin { throw IAMError.invalid("The admin user stays admin.") }
            u.role = role
        }
        if let s = c.status {
            guard s == .active || s == .disabled else { throw IAMError.invalid("A user is active or disabled.") }
            if u.name == Self.adminName && s != .active { throw IAMError.invalid("The admin user cannot be disabled.") }
            u.status = s
        }
        if let p = c.password {
            if let why = PasswordHasher.policyViolation(p) { throw IAMError.invalid(why) }
            u.passwordHash = try PasswordHasher.hash(p)
            // Set by an administrator: temporary only when said so.
            u.mustChangePassword = c.temporary ?? false
        } else if let t = c.temporary {
            u.mustChangePassword = t
        }
        if let d = c.displayName { u.displayName = d }
        if c.unlock {
            u.lockedUntil = nil
            u.failedLogins = 0
        }
        try await store.updateUser(u)
        // A new password or a disabled account ends the sessions opened before.
        if c.password != nil || u.status != .active { try await store.deleteSessions(userID: u.id, except: nil) }
        invalidate()
        return u
    }

    /// A user's own password change: needs the current password.
    package func changePassword(current: String, new: String, by actor: Principal, keepSession: String? = nil)
        async throws
    {
        guard var u = try await store.user(id: actor.userID) else { throw IAMError.notFound("No such user.") }
        guard PasswordHasher.verify(current, hash: u.passwordHash) else {
            throw IAMError.forbidden("The current password is wrong.")
        }
        if current == new { throw IAMError.invalid("The new password must differ from the current one.") }
        if let why = PasswordHasher.policyViolation(new) { throw IAMError.invalid(why) }
        u.passwordHash = try PasswordHasher.hash(new)
        u.mustChangePassword = false
        try await store.updateUser(u)
        try await store.deleteSessions(userID: u.id, except: keepSession.map(Self.tokenHash))
    }

    package func deleteUser(name: String, by actor: Principal) async throws {
        let u = try await user(named: name, by: actor)
        guard canManage(tenant: u.tenantID, actor) else { throw Self.denied() }
        if u.name == Self.adminName { throw IAMError.invalid("The admin user cannot be deleted.") }
        try await store.deleteUser(id: u.id)
        invalidate()
    }

    // MARK: access keys

    /// Creates a key; the secret is returned once and kept only sealed.
    package func createAccessKey(userName: String, by actor: Principal) async throws -> (AccessKeyRecord, String) {
        let u = try await user(named: userName, by: actor)
        if !canManage(tenant: u.tenantID, actor) && (u.id != actor.userID || actor.role == .readonly) {
            throw Self.denied()
        }
        let id = AccessKeyRecord.newID()
        let secret = AccessKeyRecord.newSecret()
        let key = AccessKeyRecord(id: id, userID: u.id, sealedSecret: try masterKey.seal(secret, context: id))
        try await store.createAccessKey(key)
        return (key, secret)
    }

    /// The key with its owner, if the actor may manage it.
    package func accessKey(id: String, by actor: Principal) async throws -> (AccessKeyRecord, UserRecord) {
        guard let k = try await store.accessKey(id: id), let u = try await store.user(id: k.userID),
            u.id == actor.userID || canManage(tenant: u.tenantID, actor)
        else { throw IAMError.notFound("No access key \(id).") }
        return (k, u)
    }

    package func listAccessKeys(userName: String?, by actor: Principal) async throws -> [(AccessKeyRecord, UserRecord)]
    {
        var keys: [(AccessKeyRecord, UserRecord)]
        if let userName {
            let u = try await user(named: userName, by: actor)
            keys = try await store.listAccessKeys(userID: u.id).map { ($0, u) }
        } else {
            let users = try await listUsers(tenantName: nil, by: actor)
            let byID = Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            keys = try await store.listAccessKeys(userID: nil).compactMap { k in byID[k.userID].map { (k, $0) } }
        }
        // The root key (from the configuration) belongs to the admin user.
        if actor.isGlobalAdmin, userName == nil || userName == Self.adminName,
            let admin = try await store.user(id: root.principal.userID)
        {
            keys.insert(
                (
                    AccessKeyRecord(id: root.accessKey, userID: admin.id, sealedSecret: [], createdAt: admin.createdAt),
                    admin
                ),
                at: 0)
        }
        return keys
    }

    static let rootKeyFixed = IAMError.invalid(
        "The root access key comes from the server's configuration (MAXIOFS_ROOT_ACCESS_KEY or the data directory).")

    package func setAccessKeyStatus(id: String, active: Bool, by actor: Principal) async throws {
        if id == root.accessKey && actor.isGlobalAdmin { throw Self.rootKeyFixed }
        let (_, owner) = try await accessKey(id: id, by: actor)
        // A user may disable its own key; enabling one again is for its administrators (who may have disabled it).
        if active && !canManage(tenant: owner.tenantID, actor) { throw Self.denied() }
        try await store.setAccessKeyStatus(id: id, status: active ? .active : .disabled)
        invalidate()
    }

    package func deleteAccessKey(id: String, by actor: Principal) async throws {
        if id == root.accessKey && actor.isGlobalAdmin { throw Self.rootKeyFixed }
        _ = try await accessKey(id: id, by: actor)
        try await store.deleteAccessKey(id: id)
        invalidate()
    }

    // MARK: groups

    package func createGroup(name: String, tenantName: String?, by actor: Principal) async throws -> GroupRecord {
        try Self.validName(name, what: "group")
        var tenant: TenantRecord?
        if let name = tenantName ?? actor.tenantName { tenant = try await self.tenant(named: name, by: actor) }
        guard canManage(tenant: tenant?.id, actor) else { throw Self.denied() }
        let g = GroupRecord(name: name, tenantID: tenant?.id)
        try await store.createGroup(g)
        return g
    }

    package func group(named name: String, by actor: Principal) async throws -> GroupRecord {
        guard let g = try await store.group(named: name), canManage(tenant: g.tenantID, actor) else {
            throw IAMError.notFound("No group \(name).")
        }
        return g
    }

    package func listGroups(tenantName: String?, by actor: Principal) async throws -> [GroupRecord] {
        if let tenantName {
            let t = try await tenant(named: tenantName, by: actor)
            guard canManage(tenant: t.id, actor) else { throw Self.denied() }
            return try await store.listGroups(tenantID: t.id)
        }
        if actor.isGlobalAdmin { return try await store.listGroups(tenantID: nil) }
        guard actor.role == .tenantAdmin, let t = actor.tenantID else { throw Self.denied() }
        return try await store.listGroups(tenantID: t)
    }

    package func deleteGroup(name: String, by actor: Principal) async throws {
        _ = try await group(named: name, by: actor)
        try await store.deleteGroup(named: name)
        invalidate()
    }

    package func setGroupMember(group name: String, userName: String, member: Bool, by actor: Principal) async throws {
        let g = try await group(named: name, by: actor)
        let u = try await user(named: userName, by: actor)
        if g.tenantID != u.tenantID { throw IAMError.invalid("A group's members belong to the group's tenant.") }
        if member {
            try await store.addGroupMember(group: name, userID: u.id)
        } else {
            try await store.removeGroupMember(group: name, userID: u.id)
        }
        invalidate()
    }

    // MARK: bucket grants

    /// Resolves `--user`/`--group`/`--tenant` names into a grant subject the actor may name.
    /// Tenant administrators name subjects of their own tenant; global administrators any (to share a bucket
    /// across tenants). `revoking`: any subject, so a tenant administrator can end a grant a global one made.
    package func grantSubject(kind: String, name: String, by actor: Principal, revoking: Bool = false) async throws
        -> GrantSubject
    {
        let global = actor.isGlobalAdmin || revoking
        switch kind {
        case "user":
            guard let u = try await store.user(named: name), global || u.tenantID == actor.tenantID else {
                throw IAMError.notFound("No user \(name).")
            }
            return .user(u.id)
        case "group":
            guard let g = try await store.group(named: name), global || g.tenantID == actor.tenantID else {
                throw IAMError.notFound("No group \(name).")
            }
            return .group(name)
        case "tenant":
            guard let t = try await store.tenant(named: name), global || t.id == actor.tenantID else {
                throw IAMError.notFound("No tenant \(name).")
            }
            return .tenant(t.id)
        default:
            throw IAMError.invalid("A grant is for a user, a group or a tenant.")
        }
    }

    /// Who may grant on a bucket: global administrators and the administrators of its tenant (a bucket's owner
    /// opens it to others with a bucket policy).
    package func canGrant(bucketTenant: String?, by actor: Principal) -> Bool {
        canManage(tenant: bucketTenant, actor)
    }

    /// A readable name for a grant's subject.
    package func subjectName(_ s: GrantSubject) async throws -> String {
        switch s {
        case .user(let id): return try await store.user(id: id)?.name ?? id
        case .group(let name): return name
        case .tenant(let id): return try await store.tenant(id: id)?.name ?? id
        }
    }
}
