import Foundation
import Logging
import MaxIOCore
import MaxIOStorage
import ServiceLifecycle

/// Runs a lifecycle pass every `lifecycle.interval` seconds (a runtime setting, read again after each wait)
/// until graceful shutdown; an interval of 0 pauses the passes.
struct LifecycleWorker: Service, CustomStringConvertible {
    var description: String { "LifecycleWorker" }
    let lifecycle: LifecycleService
    let settings: RuntimeSettings
    let stats: MaintenanceStats
    let logger: Logger

    func run() async throws {
        var waited: TimeInterval = 0
        while true {
            // Wake at least once a minute, so that a changed interval takes effect without a long wait.
            let interval = settings.values.lifecycleInterval
            let step = interval > 0 ? min(max(interval - waited, 0), 60) : 60
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(nanoseconds: UInt64(step * 1_000_000_000))
                }
            } catch {
                return  // shutting down
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            waited += step
            let now = settings.values.lifecycleInterval
            guard now > 0, waited >= now else { continue }
            waited = 0
            do {
                stats.record(try await lifecycle.runOnce())
            } catch {
                stats.update { $0.lifecycleFailures += 1 }
                logger.error("lifecycle pass failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
