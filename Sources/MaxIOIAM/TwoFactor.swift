import Foundation
import MaxIOCore
import Synchronization

/// Two-factor authentication with TOTP: set-up (a pending secret, confirmed by a first code), backup codes,
/// the second step of a login, and turning it off.
extension IAMService {
    static func totpContext(_ userID: String) -> String { "totp:" + userID }

    func activeSecret(_ user: UserRecord) throws -> [UInt8]? {
        guard let sealed = user.totpSecret, let bytes = Data(base64Encoded: sealed) else { return nil }
        return Base32.decode(try masterKey.open(Array(bytes), context: Self.totpContext(user.id)))
    }

    /// Seals again with the current master key every catalog secret sealed with a previous one (after a master
    /// key rotation): access-key secrets and TOTP secrets, active or being set up. Returns how many.
    package static func resealSecrets(store: any IAMStore, masterKey: MasterKey) async throws -> Int {
        var count = 0
        for k in try await store.listAccessKeys(userID: nil) {
            let (text, stale) = try masterKey.openNoting(k.sealedSecret, context: k.id)
            guard stale else { continue }
            try await store.setAccessKeySecret(id: k.id, sealed: try masterKey.seal(text, context: k.id))
            count += 1
        }
        for u in try await store.listUsers(tenantID: nil) {
            let context = Self.totpContext(u.id)
            if let sealed = u.totpSecret, let bytes = Data(base64Encoded: sealed) {
                let (text, stale) = try masterKey.openNoting(Array(bytes), context: context)
                if stale {
                    var changed = u
                    changed.totpSecret = Data(try masterKey.seal(text, context: context)).base64EncodedString()
                    try await store.updateUser(changed)
                    count += 1
                }
            }
            if let pending = try await store.twoFactor(userID: u.id).pending {
                let (text, stale) = try masterKey.openNoting(pending, context: context)
                if stale {
                    try await store.setTwoFactorPending(
                        userID: u.id, sealed: try masterKey.seal(text, context: context))
                    count += 1
                }
            }
        }
        return count
    }

    /// Starts (or restarts) the set-up: a new secret, kept pending until `enableTwoFactor` confirms a code.
    package func beginTwoFactorSetup(by actor: Principal) async throws -> (secret: String, uri: String) {
        guard let u = try await store.user(id: actor.userID) else { throw IAMError.notFound("No such user.") }
        if u.totpSecret != nil {
            throw IAMError.invalid("Two-factor authentication is already on: turn it off first to set it up again.")
        }
        let secret = TOTP.generateSecret()
        let text = Base32.encode(secret)
        try await store.setTwoFactorPending(
            userID: u.id, sealed: try masterKey.seal(text, context: Self.totpContext(u.id)))
        return (text, TOTP.uri(secret: secret, account: u.name))
    }

    /// Confirms the pending secret with a code from the app; returns the backup codes (shown once).
    package func enableTwoFactor(code: String, by actor: Principal, now: Date = Date()) async throws -> [String] {
        guard let u = try await store.user(id: actor.userID) else { throw IAMError.notFound("No such user.") }
        let state = try await store.twoFactor(userID: u.id)
        guard let pending = state.pending else {
            throw IAMError.invalid("Start the set-up first (POST /api/v1/auth/2fa/setup).")
        }
        let text = try masterKey.open(pending, context: Self.totpContext(u.id))
        guard let secret = Base32.decode(text), let step = TOTP.match(secret: secret, code: code, at: now) else {
            throw IAMError.invalid("The code is not right: check the time on the device and try the current code.")
        }
        let codes = TOTP.backupCodes()
        // The active secret is kept as the pending one was: its base32 text, sealed and bound to the user.
        let active = try masterKey.seal(text, context: Self.totpContext(u.id))
        try await store.setTwoFactor(
            userID: u.id, sealedSecret: Data(active).base64EncodedString(), backupCodes: codes.map(TOTP.backupCodeHash))
        _ = try await store.useTOTPCounter(userID: u.id, counter: step)
        return codes
    }

    /// Turns 2FA off for oneself: with the password, a current code or a backup code.
    package func disableTwoFactor(password: String?, code: String?, by actor: Principal, now: Date = Date())
        async throws
    {
        guard let u = try await store.user(id: actor.userID) else { throw IAMError.notFound("No such user.") }
        guard u.totpSecret != nil else { throw IAMError.invalid("Two-factor authentication is not on.") }
        var proven = false
        if let password, PasswordHasher.verify(password, hash: u.passwordHash) { proven = true }
        if !proven, let code { proven = try await verifySecondFactor(u, code: code, now: now) }
        guard proven else { throw IAMError.forbidden("The password or code is wrong.") }
        try await store.setTwoFactor(userID: u.id, sealedSecret: nil, backupCodes: [])
    }

    /// An administrator turns 2FA off for a user who lost the device (the user sets it up again).
    package func resetTwoFactor(userName: String, by actor: Principal) async throws {
        let u = try await user(named: userName, by: actor)
        guard canManage(tenant: u.tenantID, actor) else { throw Self.denied() }
        try await store.setTwoFactor(userID: u.id, sealedSecret: nil, backupCodes: [])
        try await store.deleteSessions(userID: u.id, except: nil)
    }

    /// New backup codes (the old ones stop working), after a current code or the password.
    package func regenerateBackupCodes(password: String?, code: String?, by actor: Principal, now: Date = Date())
        async throws -> [String]
    {
        guard let u = try await store.user(id: actor.userID) else { throw IAMError.notFound("No such user.") }
        guard u.totpSecret != nil else { throw IAMError.invalid("Two-factor authentication is not on.") }
        var proven = false
        if let password, PasswordHasher.verify(password, hash: u.passwordHash) { proven = true }
        if !proven, let code { proven = try await verifySecondFactor(u, code: code, now: now, backupCodes: false) }
        guard proven else { throw IAMError.forbidden("The password or code is wrong.") }
        let codes = TOTP.backupCodes()
        try await store.setBackupCodes(userID: u.id, hashes: codes.map(TOTP.backupCodeHash))
        return codes
    }

    /// Whether 2FA is on, and how many backup codes are left.
    package func twoFactorStatus(by actor: Principal) async throws -> (enabled: Bool, backupCodesLeft: Int) {
        guard let u = try await store.user(id: actor.userID) else { throw IAMError.notFound("No such user.") }
        guard u.totpSecret != nil else { return (false, 0) }
        return (true, try await store.twoFactor(userID: u.id).backupCodes.count)
    }

    /// A TOTP code (each time step once) or, unless excluded, a backup code (each once).
    func verifySecondFactor(_ u: UserRecord, code: String, now: Date, backupCodes: Bool = true) async throws -> Bool {
        if let secret = try activeSecret(u), let step = TOTP.match(secret: secret, code: code, at: now) {
            return try await store.useTOTPCounter(userID: u.id, counter: step)
        }
        // Backup codes are eight letters and digits (some all digits), a TOTP code six digits.
        if backupCodes, code.filter({ $0.isLetter || $0.isNumber }).count == 8 {
            return try await store.useBackupCode(userID: u.id, hash: TOTP.backupCodeHash(code))
        }
        return false
    }

    /// The second step of a login. A wrong code counts as a failed login (lockout), and a challenge takes at
    /// most five codes.
    package func completeLogin(challenge: String, code: String, now: Date = Date()) async throws -> Session {
        let key = Self.tokenHash(challenge)
        let entry = challenges.withLock { c -> (userID: String, expires: Date, attempts: Int)? in
            guard var e = c[key], e.expires > now, e.attempts < 5 else {
                c.removeValue(forKey: key)
                return nil
            }
            e.attempts += 1
            c[key] = e
            return e
        }
        guard let entry else { throw LoginRefused(reason: "2fa challenge unknown or expired", user: nil) }
        guard let u = try await store.user(id: entry.userID) else {
            throw LoginRefused(reason: "unknown user", user: nil)
        }
        if let until = u.lockedUntil, until > now { throw LoginRefused(reason: "account locked", user: u) }
        guard u.status == .active else { throw LoginRefused(reason: "user disabled", user: u) }
        guard try await verifySecondFactor(u, code: code, now: now) else {
            try await store.recordFailedLogin(
                userID: u.id, threshold: lockoutThreshold, lockUntil: now.addingTimeInterval(lockoutDuration))
            throw LoginRefused(reason: "wrong 2fa code", user: u)
        }
        challenges.withLock { _ = $0.removeValue(forKey: key) }
        return try await startSession(u, now: now)
    }
}
