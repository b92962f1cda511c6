import Foundation
import Logging
import MaxIOStorage
import ServiceLifecycle

/// Runs a lifecycle pass every `interval` seconds until graceful shutdown.
struct LifecycleWorker: Service, CustomStringConvertible {
    var description: String { "LifecycleWorker" }
    let lifecycle: LifecycleService
    let interval: TimeInterval
    let logger: Logger

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
                }
            } catch {
                return  // shutting down
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            do {
                _ = try await lifecycle.runOnce()
            } catch {
                logger.error("lifecycle pass failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
