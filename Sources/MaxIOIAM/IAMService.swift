import Crypto
import Foundation
import MaxIOCore
import Synchronization

/// Identities for request signing (cached), and the administration of tenants, users, keys, groups and grants
/// with the rules of who may change what. The console API and `maxiofs admin` go through here.
package final class IAMService: Sendable {
    package let store: any IAMStore
    let masterKey: MasterKey
    /// The root access key (from the environment or the data directory): it belongs to the `admin` user.
    let root: Identity
    /// Resolved keys, for `cacheTTL` seconds (changes made through this service drop the cache at once).
    private let cache = Mutex<[String: (identity: Identity?, at: Date)]>([:])
    private let lastTouched = Mutex<[String: Date]>([:])
    private let generationCounter = Atomic<Int>(0)
    /// Logins waiting for their second factor, by challenge hash (this node's memory; five minutes).
    let challenges = Mutex<[String: (userID: String, expires: Date, attempts: Int)]>([:])
    let cacheTTL: TimeInterval
    /// Sessions last `session.idle_timeout` without use, and at most `session.lifetime` (runtime settings).
    package let settings: RuntimeSettings
    package var sessionIdle: TimeInterval { settings.values.sessionIdleTimeout }
    package var sessionLifetime: TimeInterval { settings.values.sessionLifetime }
    /// Failed logins before an account is locked, and for how long.
    let lockoutThreshold = 5
    let lockoutDuration: TimeInterval = 900

    package static let adminName = "admin"

    package init(
        store: any IAMStore, masterKey: MasterKey, rootAccessKey: String, rootSecret: String, rootUserID: String,
        cacheTTL: TimeInterval = 5, settings: RuntimeSettings = RuntimeSettings(.init())
    ) {
        self.store = store
        self.masterKey = masterKey
        self.root = Identity(
            accessKey: rootAccessKey, secret: rootSecret,
            principal: Principal(
                userID: rootUserID, userName: Self.adminName, displayName: Self.adminName, tenantID: nil,
                tenantName: nil, role: .admin))
        self.cacheTTL = cacheTTL
        self.settings = settings
    }

    package var rootPrincipal: Principal { root.principal }

    /// Creates the `admin` user on first start. Returns the generated password when none was given (print it once).
    package func bootstrap(adminPassword: String?) async throws -> String? {
        if try await store.user(named: Self.adminName) != nil { return nil }
        let password = adminPassword ?? PasswordHasher.generate()
        if adminPassword != nil, let why = PasswordHasher.policyViolation(password) {
            throw IAMError.invalid("MAXIOFS_ADMIN_PASSWORD: \(why)")
        }
        try await store.createUser(
            UserRecord(
                id: root.principal.userID, name: Self.adminName, tenantID: nil, role: .admin,
                displayName: Self.adminName, passwordHash: try PasswordHasher.hash(password),
                mustChangePassword: adminPassword == nil))
        return adminPassword == nil ? password : nil
    }

    package func invalidate() {
        cache.withLock { $0.removeAll() }
        generationCounter.add(1, ordering: .relaxed)
    }

    /// Changes with every invalidation: caches of bucket access keyed on it drop entries made before a change.
    package var generation: Int { generationCounter.load(ordering: .relaxed) }

    // MARK: signing identities

    /// The key's secret and owner; nil when the key does not exist. A key that exists but may not be used
    /// has `disabledReason` set.
    package func identity(accessKey: String) async throws -> Identity? {
        if accessKey == root.accessKey { return root }
        let now = Date()
        if let hit = cache.withLock({ $0[accessKey] }), now.timeIntervalSince(hit.at) < cacheTTL {
            touch(accessKey, now: now)
            return hit.identity
        }
        var identity: Identity?
        if let (key, user, tenant, groups) = try await store.keyOwner(accessKey: accessKey) {
            let secret = try masterKey.open(key.sealedSecret, context: key.id)
            var reason: String?
            if key.status != .active {
                reason = "key"
            } else if user.status != .active {
                reason = "The user of this access key is disabled."
            } else if let tenant, tenant.status != .active {
                reason = "The tenant of this access key is suspended."
            }
            identity = Identity(
                accessKey: key.id, secret: secret,
                principal: Principal(
                    userID: user.id, userName: user.name, displayName: user.displayName, tenantID: user.tenantID,
                    tenantName: tenant?.name, role: user.role, groups: groups),
                disabledReason: reason)
        }
        let resolved = identity
        cache.withLock { $0[accessKey] = (resolved, now) }
        if resolved != nil { touch(accessKey, now: now) }
        return resolved
    }

    /// Records a key's last use, at most once a minute per key.
    private func touch(_ accessKey: String, now: Date) {
        let due = lastTouched.withLock { t -> Bool in
            if let last = t[accessKey], now.timeIntervalSince(last) < 60 { return false }
            t[accessKey] = now
            return true
        }
        guard due else { return }
        let store = self.store
        Task { try? await store.touchAccessKey(id: accessKey, at: now) }
    }

    // MARK: sessions

    package struct Session: Sendable {
        package var token: String
        package var user: UserRecord
        package var expiresAt: Date
    }

    static func tokenHash(_ token: String) -> String { Hex.encode(SHA256.hash(data: Array(token.utf8))) }

    /// Checks a password login. Unknown users, wrong passwords, disabled and locked accounts all fail alike.
    /// A correct password gives a session, or, when the user has two-factor authentication on, a challenge to
    /// complete with a code (`completeLogin`).
    package enum LoginOutcome: Sendable {
        case session(Session)
        case secondFactor(challenge: String, expiresAt: Date, user: UserRecord)
    }

    package func login(username: String, password: String, now: Date = Date()) async throws -> LoginOutcome {
        guard let user = try await store.user(named: username) else {
            // Spend the same time as a real check, so timing does not tell whether the user exists.
            _ = PasswordHasher.verify(password, hash: Self.dummyHash)
            throw LoginRefused(reason: "unknown user", user: nil)
        }
        if let until = user.lockedUntil, until > now {
            _ = PasswordHasher.verify(password, hash: Self.dummyHash)
            throw LoginRefused(reason: "account locked", user: user)
        }
        guard PasswordHasher.verify(password, hash: user.passwordHash) else {
            try await store.recordFailedLogin(
                userID: user.id, threshold: lockoutThreshold, lockUntil: now.addingTimeInterval(lockoutDuration))
            throw LoginRefused(
                reason: user.failedLogins + 1 >= lockoutThreshold ? "wrong password; account locked" : "wrong password",
                user: user)
        }
        if user.status != .active { throw LoginRefused(reason: "user disabled", user: user) }
        if let t = user.tenantID, let tenant = try await store.tenant(id: t), tenant.status != .active {
            throw LoginRefused(reason: "tenant suspended", user: user)
        }
        if user.totpSecret != nil {
            let challenge = randomHexID(bytes: 32)
            let expires = now.addingTimeInterval(300)
            challenges.withLock { c in
                c = c.filter { $0.value.expires > now }
                c[Self.tokenHash(challenge)] = (user.id, expires, 0)
            }
            return .secondFactor(challenge: challenge, expiresAt: expires, user: user)
        }
        return .session(try await startSession(user, now: now))
    }

    /// A new session for a user who proved who they are.
    func startSession(_ user: UserRecord, now: Date) async throws -> Session {
        if user.failedLogins != 0 || user.lockedUntil != nil { try await store.clearFailedLogins(userID: user.id) }
        let token = randomHexID(bytes: 32)
        let expires = now.addingTimeInterval(sessionLifetime)
        try await store.createSession(
            SessionRecord(
                tokenHash: Self.tokenHash(token), userID: user.id, createdAt: now, lastSeen: now, expiresAt: expires))
        return Session(token: token, user: user, expiresAt: expires)
    }

    static let dummyHash: String = (try? PasswordHasher.hash("not a password")) ?? ""

    /// The user behind a session token, or nil when the session does not exist, expired or its user may no
    /// longer log in.
    package func authenticate(token: String, now: Date = Date()) async throws -> (Principal, UserRecord)? {
        let hash = Self.tokenHash(token)
        guard let s = try await store.session(tokenHash: hash) else { return nil }
        if s.expiresAt <= now || now.timeIntervalSince(s.lastSeen) > sessionIdle {
            try await store.deleteSession(tokenHash: hash)
            return nil
        }
        guard let user = try await store.user(id: s.userID), user.status == .active else { return nil }
        let (tenant, groups) = try await store.membership(userID: user.id)
        if let tenant, tenant.status != .active { return nil }
        // Record the use at most once a minute, and always well within the idle timeout (a tenth of it), so that
        // a session in use never idles out.
        if now.timeIntervalSince(s.lastSeen) > min(60, sessionIdle / 10) {
            try await store.touchSession(tokenHash: hash, at: now)
        }
        return (principal(user, tenant: tenant, groups: groups), user)
    }

    package func logout(token: String) async throws {
        try await store.deleteSession(tokenHash: Self.tokenHash(token))
    }

    func principal(_ user: UserRecord, tenant: TenantRecord?, groups: [String]) -> Principal {
        Principal(
            userID: user.id, userName: user.name, displayName: user.displayName, tenantID: user.tenantID,
            tenantName: tenant?.name, role: user.role, groups: groups)
    }
}
