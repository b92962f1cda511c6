import Foundation
import Logging
import MaxIOCore

/// One security-relevant or administrative action: who did what to which resource, from where, and how it
/// ended. Entries are appended, read and, past the retention, pruned; nothing updates them.
package struct AuditEntry: Sendable, Equatable {
    package var id: Int64
    package var time: Date
    /// The user name (the root key is the `admin` user's), `anonymous`, or the name given at a failed login.
    package var actor: String
    package var actorID: String?
    /// The actor's tenant (id and name at the time), nil for global users.
    package var tenantID: String?
    package var tenantName: String?
    package var sourceIP: String?
    /// Dotted, stable names: `login`, `user.create`, `bucket.policy.put`, `quota.denied`, ...
    package var action: String
    package var resource: String
    /// `success`, `failure` (the action was refused or failed) or `denied` (not allowed).
    package var result: String
    package var requestID: String?
    /// A JSON object with the action's details (never a secret), or nil.
    package var detail: String?

    package init(
        id: Int64 = 0, time: Date = Date(), actor: String, actorID: String? = nil, tenantID: String? = nil,
        tenantName: String? = nil, sourceIP: String? = nil, action: String, resource: String, result: String,
        requestID: String? = nil, detail: String? = nil
    ) {
        self.id = id
        self.time = time
        self.actor = actor
        self.actorID = actorID
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.sourceIP = sourceIP
        self.action = action
        self.resource = resource
        self.result = result
        self.requestID = requestID
        self.detail = detail
    }
}

/// What to read: every field is an exact match except `action`, which also matches a prefix when it ends
/// with `*` (`user.*`). Entries come newest first; `before` is the cursor (an entry id).
package struct AuditFilter: Sendable, Equatable {
    package var since: Date?
    package var until: Date?
    package var actor: String?
    package var tenantID: String?
    package var action: String?
    package var result: String?
    package var before: Int64?
    package var limit: Int = 100

    package init() {}
}

package protocol AuditStore: Sendable {
    func appendAudit(_ entries: [AuditEntry]) async throws
    func auditEntries(_ filter: AuditFilter) async throws -> [AuditEntry]
    /// Removes the entries older than `date`; returns how many.
    func pruneAudit(before date: Date) async throws -> Int
}

/// Records audit entries. A failure to record is logged at `error` and never fails the action itself.
package struct AuditLog: Sendable {
    package let store: any AuditStore
    let logger: Logger

    package init(store: any AuditStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    package func record(_ entry: AuditEntry) async {
        do {
            try await store.appendAudit([entry])
        } catch {
            logger.error(
                "could not record an audit entry",
                metadata: [
                    "action": "\(entry.action)", "actor": "\(entry.actor)", "resource": "\(entry.resource)",
                    "result": "\(entry.result)", "error": "\(error)",
                ])
        }
    }

    /// A JSON object of plain string values, keys sorted, for `detail`.
    package static func detail(_ fields: [String: String]) -> String? {
        guard !fields.isEmpty else { return nil }
        var out = "{"
        for (i, k) in fields.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            out += quotedLiteral(k) + ":" + quotedLiteral(fields[k]!)
        }
        return out + "}"
    }

}

/// Runtime settings changed through the API, kept in the catalog so that they survive a restart.
package protocol SettingsStore: Sendable {
    func storedSettings() async throws -> [String: String]
    func storeSetting(name: String, value: String, by actor: String) async throws
    func deleteSetting(name: String) async throws
}
