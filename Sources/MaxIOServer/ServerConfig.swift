import Foundation
import MaxIOCore

/// A `HOST:PORT` listen address.
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    package init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

package struct ConfigError: Error, CustomStringConvertible {
    package var description: String
    package init(_ d: String) { description = d }
}

/// The typed configuration, built once at start-up from defaults, `MAXIOFS_*` environment variables
/// and command-line flags (flags win).
package struct ServerConfig: Sendable {
    package var dataDir = "./data"
    package var s3Address = ListenAddress(host: "0.0.0.0", port: 8080)
    package var consoleAddress = ListenAddress(host: "0.0.0.0", port: 8081)
    package var region = "us-east-1"
    package var domains: [String] = []
    /// fsync blobs and `synchronous=FULL` in SQLite: an acknowledged write survives a power cut.
    package var durable = true
    package var rootAccessKey: String?
    package var rootSecretKey: String?
    package var logLevel = "info"
    /// Seconds between lifecycle passes; 0 turns the background pass off.
    package var lifecycleInterval: TimeInterval = 3600
    /// Seconds in a lifecycle "day" (tests shorten it).
    package var lifecycleDay: TimeInterval = 86400
    /// When set, `/metrics` on the console port needs `Authorization: Bearer <token>`.
    package var metricsToken: String?
    /// The `admin` user's password at first start (else one is generated and printed once).
    package var adminPassword: String?
    /// The master key (base64 of 32 bytes), or a file holding it; else DATA/master.key is generated.
    package var masterKey: String?
    package var masterKeyFile: String?

    package init() {}

    /// Applies `MAXIOFS_*` variables.
    package mutating func apply(environment env: [String: String]) throws {
        if let v = env["MAXIOFS_DATA_DIR"], !v.isEmpty { dataDir = v }
        if let v = env["MAXIOFS_S3_ADDRESS"], !v.isEmpty {
            guard let a = ListenAddress(v) else {
                throw ConfigError("MAXIOFS_S3_ADDRESS: expected HOST:PORT, got '\(v)'")
            }
            s3Address = a
        }
        if let v = env["MAXIOFS_CONSOLE_ADDRESS"], !v.isEmpty {
            guard let a = ListenAddress(v) else {
                throw ConfigError("MAXIOFS_CONSOLE_ADDRESS: expected HOST:PORT, got '\(v)'")
            }
            consoleAddress = a
        }
        if let v = env["MAXIOFS_REGION"], !v.isEmpty { region = v }
        if let v = env["MAXIOFS_DOMAIN"], !v.isEmpty {
            domains = v.split(separator: ",").map { $0.trimmingSpaces().lowercased() }
        }
        if let v = env["MAXIOFS_FSYNC"], !v.isEmpty {
            switch v.lowercased() {
            case "1", "true", "yes", "on": durable = true
            case "0", "false", "no", "off": durable = false
            default: throw ConfigError("MAXIOFS_FSYNC: expected true or false, got '\(v)'")
            }
        }
        if let v = env["MAXIOFS_ROOT_ACCESS_KEY"], !v.isEmpty { rootAccessKey = v }
        if let v = env["MAXIOFS_ROOT_SECRET_KEY"], !v.isEmpty { rootSecretKey = v }
        if let v = env["MAXIOFS_LOG_LEVEL"], !v.isEmpty { logLevel = v }
        if let v = env["MAXIOFS_METRICS_TOKEN"], !v.isEmpty { metricsToken = v }
        if let v = env["MAXIOFS_ADMIN_PASSWORD"], !v.isEmpty { adminPassword = v }
        if let v = env["MAXIOFS_MASTER_KEY"], !v.isEmpty { masterKey = v }
        if let v = env["MAXIOFS_MASTER_KEY_FILE"], !v.isEmpty { masterKeyFile = v }
        if let v = env["MAXIOFS_LIFECYCLE_INTERVAL"], !v.isEmpty {
            guard let s = Double(v), s >= 0, s <= 1e9 else {
                throw ConfigError("MAXIOFS_LIFECYCLE_INTERVAL: expected seconds (0 turns it off), got '\(v)'")
            }
            lifecycleInterval = s
        }
        if let v = env["MAXIOFS_LIFECYCLE_DAY_SECONDS"], !v.isEmpty {
            guard let s = Double(v), s > 0, s <= 1e9 else {
                throw ConfigError("MAXIOFS_LIFECYCLE_DAY_SECONDS: expected a positive number of seconds, got '\(v)'")
            }
            lifecycleDay = s
        }
    }

    package func validate() throws {
        if (rootAccessKey == nil) != (rootSecretKey == nil) {
            throw ConfigError("set both MAXIOFS_ROOT_ACCESS_KEY and MAXIOFS_ROOT_SECRET_KEY, or neither")
        }
        if let k = rootAccessKey, !(3...128).contains(k.count) {
            throw ConfigError("MAXIOFS_ROOT_ACCESS_KEY must be 3 to 128 characters")
        }
        if let s = rootSecretKey, !(8...128).contains(s.count) {
            throw ConfigError("MAXIOFS_ROOT_SECRET_KEY must be 8 to 128 characters")
        }
    }
}
