import Foundation
import Synchronization

/// The settings an administrator may change while the server runs. Their start values come from the
/// configuration (file, environment, flags); a value set through the API is stored in the catalog and wins
/// until it is reset. Every component reads the current value when it needs it.
package final class RuntimeSettings: Sendable {
    package struct Values: Sendable, Equatable {
        package var logLevel = "info"
        package var lifecycleInterval: Double = 3600
        package var auditObjects = false
        /// Requests per second each access key (or, for anonymous requests, each source address) may make; 0 = no limit.
        package var s3RequestsPerSecond: Double = 0
        /// S3 requests answered at the same time; 0 = no limit.
        package var s3MaxConcurrentRequests = 0
        /// Failed logins per minute from one source address (a burst of as many, then refused until one is
        /// earned back); 0 = no limit.
        package var failedLoginsPerMinute = 20
        package var sessionIdleTimeout: Double = 3600
        package var sessionLifetime: Double = 12 * 3600

        package init() {}
    }

    /// One changeable setting: its name (as in the configuration file), what it means, and how a text value
    /// is checked and applied.
    package struct Definition: Sendable {
        package let name: String
        package let help: String
        package let parse: @Sendable (String, inout Values) -> String?
        package let show: @Sendable (Values) -> String
    }

    private let state: Mutex<Values>
    /// The values the configuration gave, for reset.
    package let configured: Values
    private let observers = Mutex<[@Sendable (Values) -> Void]>([])

    package init(_ configured: Values) {
        self.configured = configured
        state = Mutex(configured)
    }

    package var values: Values { state.withLock { $0 } }

    /// Calls `observer` now and after every change.
    package func observe(_ observer: @escaping @Sendable (Values) -> Void) {
        observers.withLock { $0.append(observer) }
        observer(values)
    }

    /// Sets one setting from text; returns the problem, or nil when it was applied.
    package func set(_ name: String, to text: String) -> String? {
        guard let d = Self.definitions.first(where: { $0.name == name }) else { return "no runtime setting \(name)" }
        var v = values
        if let problem = d.parse(text, &v) { return problem }
        apply(v)
        return nil
    }

    /// Back to the configured value.
    package func reset(_ name: String) {
        guard let d = Self.definitions.first(where: { $0.name == name }) else { return }
        var v = values
        _ = d.parse(d.show(configured), &v)
        apply(v)
    }

    private func apply(_ v: Values) {
        state.withLock { $0 = v }
        for o in observers.withLock({ $0 }) { o(v) }
    }

    package static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    static func seconds(_ t: String, min: Double, max: Double) -> Double? {
        guard let d = Double(t), d.isFinite, d >= min, d <= max else { return nil }
        return d
    }

    package static let definitions: [Definition] = [
        Definition(
            name: "log.level", help: "log level: trace, debug, info, notice, warning, error, critical",
            parse: { t, v in
                guard logLevels.contains(t.lowercased()) else {
                    return "expected one of \(logLevels.joined(separator: ", ")), got '\(t)'"
                }
                v.logLevel = t.lowercased()
                return nil
            }, show: { $0.logLevel }),
        Definition(
            name: "lifecycle.interval", help: "seconds between lifecycle passes, 0 for none",
            parse: { t, v in
                guard let d = seconds(t, min: 0, max: 1e9) else {
                    return "expected seconds (0 turns it off), got '\(t)'"
                }
                v.lifecycleInterval = d
                return nil
            }, show: { number($0.lifecycleInterval) }),
        Definition(
            name: "audit.objects", help: "also audit object writes and deletes",
            parse: { t, v in
                switch t.lowercased() {
                case "true", "1", "yes", "on": v.auditObjects = true
                case "false", "0", "no", "off": v.auditObjects = false
                default: return "expected true or false, got '\(t)'"
                }
                return nil
            }, show: { $0.auditObjects ? "true" : "false" }),
        Definition(
            name: "s3.requests_per_second",
            help: "S3 requests per second per access key (anonymous: per source address), 0 for no limit",
            parse: { t, v in
                guard let d = seconds(t, min: 0, max: 1e6) else {
                    return "expected requests per second from 0 (no limit) to 1000000, got '\(t)'"
                }
                v.s3RequestsPerSecond = d
                return nil
            }, show: { number($0.s3RequestsPerSecond) }),
        Definition(
            name: "s3.max_concurrent_requests", help: "S3 requests answered at once, 0 for no limit",
            parse: { t, v in
                guard let n = Int(t), n >= 0, n <= 1_000_000 else {
                    return "expected a count from 0 (no limit) to 1000000, got '\(t)'"
                }
                v.s3MaxConcurrentRequests = n
                return nil
            }, show: { String($0.s3MaxConcurrentRequests) }),
        Definition(
            name: "console.failed_logins_per_minute",
            help: "failed console logins per minute from one source address, 0 for no limit",
            parse: { t, v in
                guard let n = Int(t), n >= 0, n <= 100_000 else {
                    return "expected a count from 0 (no limit) to 100000, got '\(t)'"
                }
                v.failedLoginsPerMinute = n
                return nil
            }, show: { String($0.failedLoginsPerMinute) }),
        Definition(
            name: "session.idle_timeout", help: "seconds a console session lasts without use",
            parse: { t, v in
                guard let d = seconds(t, min: 60, max: 30 * 86400) else {
                    return "expected seconds from 60 to 2592000, got '\(t)'"
                }
                v.sessionIdleTimeout = d
                return nil
            }, show: { number($0.sessionIdleTimeout) }),
        Definition(
            name: "session.lifetime", help: "seconds a console session lasts at most",
            parse: { t, v in
                guard let d = seconds(t, min: 60, max: 365 * 86400) else {
                    return "expected seconds from 60 to 31536000, got '\(t)'"
                }
                v.sessionLifetime = d
                return nil
            }, show: { number($0.sessionLifetime) }),
    ]
}

/// Token buckets by key: `rate` tokens a second, at most `burst` saved up. Keys that have been idle long
/// enough to be full again are dropped, so the table stays small.
package final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
    }
    private let buckets = Mutex<[String: Bucket]>([:])

    package init() {}

    /// Takes one token for `key`; false when there is none (the caller answers "slow down").
    package func allow(_ key: String, rate: Double, burst: Double, now: ContinuousClock.Instant = .now) -> Bool {
        guard rate > 0 else { return true }
        return buckets.withLock { table in
            var b = table[key] ?? Bucket(tokens: burst, last: now)
            let elapsed = now - b.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            b.tokens = min(burst, b.tokens + seconds * rate)
            b.last = now
            let allowed = b.tokens >= 1
            if allowed { b.tokens -= 1 }
            table[key] = b
            if table.count > 10_000 {
                table = table.filter { _, v in
                    let idle = now - v.last
                    return Double(idle.components.seconds) * rate + v.tokens < burst
                }
            }
            return allowed
        }
    }

    /// Seconds until `key` has a token again (0 when it has one).
    package func wait(_ key: String, rate: Double, now: ContinuousClock.Instant = .now) -> Double {
        guard rate > 0 else { return 0 }
        return buckets.withLock { table in
            guard let b = table[key] else { return 0 }
            let elapsed = now - b.last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let tokens = b.tokens + seconds * rate
            return tokens >= 1 ? 0 : (1 - tokens) / rate
        }
    }
}
