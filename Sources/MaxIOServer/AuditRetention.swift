import Foundation
import Logging
import MaxIOStorage
import ServiceLifecycle

/// Removes audit entries older than the retention, at start-up and then hourly, until graceful shutdown.
struct AuditRetention: Service, CustomStringConvertible {
    var description: String { "AuditRetention" }
    let store: any AuditStore
    let days: Double
    let logger: Logger

    func run() async throws {
        while true {
            do {
                let removed = try await store.pruneAudit(before: Date().addingTimeInterval(-days * 86400))
                if removed > 0 {
                    logger.info("removed audit entries past the retention", metadata: ["removed": "\(removed)"])
                }
            } catch {
                logger.error("audit retention failed", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
            } catch {
                return
            }
        }
    }
}
