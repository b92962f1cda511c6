import Foundation

/// A console or API session.
package struct SessionRecord: Sendable, Equatable {
    /// SHA-256 of the token, hex: the token itself is never stored.
    package var tokenHash: String
    package var userID: String
    package var createdAt: Date
    package var lastSeen: Date
    package var expiresAt: Date

    package init(tokenHash: String, userID: String, createdAt: Date, lastSeen: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.createdAt = createdAt
        self.lastSeen = lastSeen
        self.expiresAt = expiresAt
    }
}

/// Tenants, users, keys, groups, bucket grants and sessions. Every method is one transaction; expected
/// outcomes throw `IAMError`.
package protocol IAMStore: Sendable {
    func createTenant(_ tenant: TenantRecord) async throws
    func tenant(id: String) async throws -> TenantRecord?
    func tenant(named: String) async throws -> TenantRecord?
    func listTenants() async throws -> [TenantRecord]
    func updateTenant(_ tenant: TenantRecord) async throws
    /// Refuses (`notEmpty`) while the tenant has buckets; removes its users, keys and groups only with `force`.
    func deleteTenant(id: String, force: Bool) async throws
    func tenantUsage(id: String) async throws -> TenantUsage

    /// Throws `alreadyExists` when the name is taken.
    func createUser(_ user: UserRecord) async throws
    func user(id: String) async throws -> UserRecord?
    func user(named: String) async throws -> UserRecord?
    /// All users, or those of one tenant (`""` for the global ones).
    func listUsers(tenantID: String?) async throws -> [UserRecord]
    func updateUser(_ user: UserRecord) async throws
    /// Counts a failed login in one statement; at `threshold` failures the account locks until `lockUntil` and
    /// the count starts again.
    func recordFailedLogin(userID: String, threshold: Int, lockUntil: Date) async throws
    /// Clears the failure count and any lock after a successful login.
    func clearFailedLogins(userID: String) async throws
    /// Removes the user with its keys, group memberships, grants and sessions.
    func deleteUser(id: String) async throws

    /// Checks the tenant's access-key quota in the same transaction (`quotaExceeded`).
    func createAccessKey(_ key: AccessKeyRecord) async throws
    func accessKey(id: String) async throws -> AccessKeyRecord?
    func listAccessKeys(userID: String?) async throws -> [AccessKeyRecord]
    func setAccessKeyStatus(id: String, status: AccountStatus) async throws
    /// Replaces a key's sealed secret (a master key rotation seals it again).
    func setAccessKeySecret(id: String, sealed: [UInt8]) async throws
    func deleteAccessKey(id: String) async throws
    func touchAccessKey(id: String, at: Date) async throws
    /// The key with its user, the user's tenant and groups, in one read; nil when there is no such key.
    func keyOwner(accessKey: String) async throws -> (
        key: AccessKeyRecord, user: UserRecord, tenant: TenantRecord?, groups: [String]
    )?
    /// The user's tenant and groups.
    func membership(userID: String) async throws -> (tenant: TenantRecord?, groups: [String])

    func createGroup(_ group: GroupRecord) async throws
    func group(named: String) async throws -> GroupRecord?
    func listGroups(tenantID: String?) async throws -> [GroupRecord]
    func deleteGroup(named: String) async throws
    func addGroupMember(group: String, userID: String) async throws
    func removeGroupMember(group: String, userID: String) async throws

    /// Adds or replaces the grant for the same bucket and subject.
    func grant(_ grant: BucketGrant) async throws
    func revoke(bucket: String, subject: GrantSubject) async throws
    func grants(bucket: String) async throws -> [BucketGrant]

    func createSession(_ session: SessionRecord) async throws
    func session(tokenHash: String) async throws -> SessionRecord?
    func touchSession(tokenHash: String, at: Date) async throws
    func deleteSession(tokenHash: String) async throws
    /// Ends every session of a user but `except` (a password change, a disabled account).
    func deleteSessions(userID: String, except: String?) async throws

    /// Two-factor state besides the active secret (`UserRecord.totpSecret`, sealed): the secret being set up,
    /// the backup code hashes left, and the last time step used (a code is never accepted twice).
    func twoFactor(userID: String) async throws -> TwoFactorRecord
    func setTwoFactorPending(userID: String, sealed: [UInt8]?) async throws
    /// Turns 2FA on (the pending secret becomes the active one) or off (`sealedSecret` nil clears everything).
    func setTwoFactor(userID: String, sealedSecret: String?, backupCodes: [String]) async throws
    func setBackupCodes(userID: String, hashes: [String]) async throws
    /// Records `counter` as used if it is later than the last one used; false when it was not.
    func useTOTPCounter(userID: String, counter: Int64) async throws -> Bool
    /// Removes the backup code with this hash; false when there was none.
    func useBackupCode(userID: String, hash: String) async throws -> Bool
}
