import Foundation

package enum LockMode: String, Sendable, Codable {
    case GOVERNANCE, COMPLIANCE
}

/// A bucket's Object Lock configuration: enabled (for good, once set), and an optional default retention.
package struct ObjectLockConfig: Sendable, Equatable, Codable {
    package var enabled: Bool
    package var defaultMode: LockMode?
    package var defaultDays: Int?
    package var defaultYears: Int?

    package init(enabled: Bool, defaultMode: LockMode? = nil, defaultDays: Int? = nil, defaultYears: Int? = nil) {
        self.enabled = enabled
        self.defaultMode = defaultMode
        self.defaultDays = defaultDays
        self.defaultYears = defaultYears
    }

    /// The retention a new version gets when its request names none.
    package func defaultRetention(from now: Date) -> (LockMode, Date)? {
        guard enabled, let mode = defaultMode else { return nil }
        if let d = defaultDays { return (mode, now.addingTimeInterval(Double(d) * 86400)) }
        if let y = defaultYears {
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            return utc.date(byAdding: .year, value: y, to: now).map { (mode, $0) }
        }
        return nil
    }
}

/// The Object Lock rules for one version (WORM): what may delete it or change its retention.
package enum ObjectLockRules {
    /// Throws `objectLocked` when the version may not be removed for good: a legal hold, an unexpired
    /// COMPLIANCE retention, or an unexpired GOVERNANCE retention without the bypass.
    package static func checkDeletable(_ meta: ObjectMeta, bypassGovernance: Bool, now: Date) throws {
        if meta.legalHold {
            throw StorageError.objectLocked("Access Denied because object protected by object lock.")
        }
        guard let mode = meta.lockMode, let until = meta.lockRetainUntil, until > now else { return }
        if mode == .COMPLIANCE || !bypassGovernance {
            throw StorageError.objectLocked("Access Denied because object protected by object lock.")
        }
    }

    /// Checks a new retention (nil mode: removal) against the current one: COMPLIANCE can only be kept or
    /// extended; GOVERNANCE can be kept, extended or made COMPLIANCE by anyone, and shortened or removed only
    /// with the bypass.
    package static func checkRetentionChange(
        _ meta: ObjectMeta, mode: LockMode?, until: Date?, bypassGovernance: Bool, now: Date
    ) throws {
        guard let current = meta.lockMode, let currentUntil = meta.lockRetainUntil, currentUntil > now else { return }
        let extendsOrKeeps = mode != nil && (until ?? .distantPast) >= currentUntil
        switch current {
        case .COMPLIANCE:
            guard mode == .COMPLIANCE, extendsOrKeeps else {
                throw StorageError.objectLocked(
                    "Access Denied because object protected by object lock (COMPLIANCE retention cannot be shortened or removed)."
                )
            }
        case .GOVERNANCE:
            if extendsOrKeeps || bypassGovernance { return }
            throw StorageError.objectLocked(
                "Access Denied because object protected by object lock (GOVERNANCE retention can be shortened or removed only with x-amz-bypass-governance-retention)."
            )
        }
    }
}
