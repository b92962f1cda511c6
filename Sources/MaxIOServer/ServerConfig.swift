import Foundation
import MaxIOCore
import MaxIOIAM
import MaxIOStorage

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

/// The typed configuration, built once at start-up from defaults, a configuration file (`--config`, TOML),
/// `MAXIOFS_*` environment variables and command-line flags, in increasing precedence. Every setting is one
/// row of `ServerConfig.keys`: its name in the file, its variable, its flag, its default and how it parses.
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
    /// The settings that can also change at run time (their start values).
    package var runtime = RuntimeSettings.Values()
    package var logLevel: String { runtime.logLevel }
    /// `text` (one readable line per entry) or `json` (one JSON object per line).
    package var logFormat = "text"
    /// Seconds between lifecycle passes; 0 turns the background pass off.
    package var lifecycleInterval: TimeInterval { runtime.lifecycleInterval }
    /// Seconds in a lifecycle "day" (tests shorten it).
    package var lifecycleDay: TimeInterval = 86400
    /// When set, `/metrics` on the console port needs `Authorization: Bearer <token>`.
    package var metricsToken: String?
    /// PEM certificate chain and private key for HTTPS.
    package var tlsCertFile: String?
    package var tlsKeyFile: String?
    /// HTTPS on the S3 / console port; nil means "when a certificate is configured".
    package var s3TLS: Bool?
    package var consoleTLS: Bool?
    package var s3UsesTLS: Bool { s3TLS ?? (tlsCertFile != nil) }
    package var consoleUsesTLS: Bool { consoleTLS ?? (tlsCertFile != nil) }
    /// Seconds a graceful shutdown waits for in-flight requests before it cancels them.
    package var shutdownTimeout: Double = 30
    /// Largest request header section (all fields) either port accepts.
    package var maxHeaderBytes = 80 * 1024
    /// Seconds between two samples of the metrics history (0: none), and days samples are kept.
    package var metricsHistoryInterval: Double = 60
    package var metricsHistoryDays: Double = 7
    /// Days audit entries are kept; 0 keeps them for ever.
    package var auditRetentionDays: Double = 90
    /// Also audit object writes and deletes.
    package var auditObjects: Bool { runtime.auditObjects }
    /// The `admin` user's password at first start (else one is generated and printed once).
    package var adminPassword: String?
    /// The master key (base64 of 32 bytes), or a file holding it; else DATA/master.key is generated.
    package var masterKey: String?
    package var masterKeyFile: String?
    /// Master keys being rotated out: blobs sealed with them still open (`maxiofs rewrap` moves them to the
    /// current key).
    package var previousMasterKeys: [[UInt8]] = []
    /// Seal every new object with the server key (SSE-S3), whatever the request asks.
    package var encryptAtRest = true
    /// Accept SSE-C keys over plain HTTP (tests only).
    package var sseCustomerOverHTTP = false
    /// Transparent compression of new objects by content type (off by default).
    package var compression = CompressionPolicy()

    package init() {}

    /// Where a setting's value came from.
    package enum Source: String, Sendable {
        case defaultValue = "default"
        case file
        case environment
        case flag
    }

    /// One setting.
    package struct Key: Sendable {
        package enum Kind: Sendable {
            case string, bool, number, list
        }
        /// The name in the configuration file: `log.level` is `level` under `[log]`, or `log.level = ...`.
        package let name: String
        package let kind: Kind
        /// Secrets are masked by `config print` and have no flag (a flag's value shows in the process list).
        package let secret: Bool
        package let help: String
        let set: @Sendable (inout ServerConfig, String) throws(ConfigError) -> Void
        let get: @Sendable (ServerConfig) -> String?

        /// `MAXIOFS_` and the name in capitals, dots as underscores: `MAXIOFS_LOG_LEVEL`.
        package var environmentName: String {
            "MAXIOFS_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
        }
        /// `--` and the name with dashes: `--log-level`; nil for secrets.
        package var flagName: String? {
            secret
                ? nil
                : "--" + name.replacingOccurrences(of: ".", with: "-").replacingOccurrences(of: "_", with: "-")
        }
    }

    package static let keys: [Key] = [
        Key(
            name: "data_dir", kind: .string, secret: false, help: "data directory",
            set: { c, v throws(ConfigError) in c.dataDir = v }, get: { $0.dataDir }),
        Key(
            name: "s3.address", kind: .string, secret: false, help: "S3 API listen address HOST:PORT",
            set: { c, v throws(ConfigError) in c.s3Address = try address(v) }, get: { $0.s3Address.description }),
        Key(
            name: "console.address", kind: .string, secret: false, help: "console listen address HOST:PORT",
            set: { c, v throws(ConfigError) in c.consoleAddress = try address(v) },
            get: { $0.consoleAddress.description }),
        Key(
            name: "region", kind: .string, secret: false, help: "region name",
            set: { c, v throws(ConfigError) in
                guard !v.isEmpty, v.utf8.count <= 64 else { throw ConfigError("expected a region name, got '\(v)'") }
                c.region = v
            }, get: { $0.region }),
        Key(
            name: "domain", kind: .list, secret: false,
            help: "base domain(s) for virtual-host-style requests, comma-separated",
            set: { c, v throws(ConfigError) in
                c.domains = v.split(separator: ",").map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
            }, get: { $0.domains.joined(separator: ",") }),
        Key(
            name: "fsync", kind: .bool, secret: false, help: "fsync every write before acknowledging it",
            set: { c, v throws(ConfigError) in c.durable = try bool(v) }, get: { $0.durable ? "true" : "false" }),
        runtimeKey("log.level", .string),
        Key(
            name: "log.format", kind: .string, secret: false, help: "log format: text or json",
            set: { c, v throws(ConfigError) in
                guard ["text", "json"].contains(v.lowercased()) else {
                    throw ConfigError("expected text or json, got '\(v)'")
                }
                c.logFormat = v.lowercased()
            }, get: { $0.logFormat }),
        runtimeKey("lifecycle.interval", .number),
        Key(
            name: "lifecycle.day_seconds", kind: .number, secret: false, help: "seconds in a lifecycle day",
            set: { c, v throws(ConfigError) in
                guard let s = Double(v), s > 0, s <= 1e9 else {
                    throw ConfigError("expected a positive number of seconds, got '\(v)'")
                }
                c.lifecycleDay = s
            }, get: { number($0.lifecycleDay) }),
        Key(
            name: "tls.cert_file", kind: .string, secret: false,
            help: "PEM certificate chain for HTTPS (reloaded on SIGHUP)",
            set: { c, v throws(ConfigError) in c.tlsCertFile = try readable(v) }, get: { $0.tlsCertFile }),
        Key(
            name: "tls.key_file", kind: .string, secret: false, help: "PEM private key for HTTPS",
            set: { c, v throws(ConfigError) in c.tlsKeyFile = try readable(v) }, get: { $0.tlsKeyFile }),
        Key(
            name: "s3.tls", kind: .bool, secret: false,
            help: "HTTPS on the S3 port (default: when tls.cert_file is set)",
            set: { c, v throws(ConfigError) in c.s3TLS = try bool(v) }, get: { $0.s3UsesTLS ? "true" : "false" }),
        Key(
            name: "console.tls", kind: .bool, secret: false,
            help: "HTTPS on the console port (default: when tls.cert_file is set)",
            set: { c, v throws(ConfigError) in c.consoleTLS = try bool(v) },
            get: { $0.consoleUsesTLS ? "true" : "false" }),
        Key(
            name: "audit.retention_days", kind: .number, secret: false,
            help: "days audit entries are kept, 0 for ever",
            set: { c, v throws(ConfigError) in
                guard let d = Double(v), d >= 0, d <= 36500 else {
                    throw ConfigError("expected a number of days from 0 (keep for ever) to 36500, got '\(v)'")
                }
                c.auditRetentionDays = d
            }, get: { number($0.auditRetentionDays) }),
        runtimeKey("audit.objects", .bool),
        runtimeKey("s3.requests_per_second", .number),
        runtimeKey("s3.max_concurrent_requests", .number),
        runtimeKey("console.failed_logins_per_minute", .number),
        runtimeKey("session.idle_timeout", .number),
        runtimeKey("session.lifetime", .number),
        Key(
            name: "root.access_key", kind: .string, secret: false, help: "root access key",
            set: { c, v throws(ConfigError) in
                guard (3...128).contains(v.count) else { throw ConfigError("must be 3 to 128 characters") }
                c.rootAccessKey = v
            }, get: { $0.rootAccessKey }),
        Key(
            name: "root.secret_key", kind: .string, secret: true, help: "root secret key",
            set: { c, v throws(ConfigError) in
                guard (8...128).contains(v.count) else { throw ConfigError("must be 8 to 128 characters") }
                c.rootSecretKey = v
            }, get: { $0.rootSecretKey }),
        Key(
            name: "admin.password", kind: .string, secret: true, help: "the admin user's password (first start)",
            set: { c, v throws(ConfigError) in
                if let why = PasswordHasher.policyViolation(v) { throw ConfigError(why) }
                c.adminPassword = v
            }, get: { $0.adminPassword }),
        Key(
            name: "master_key", kind: .string, secret: true, help: "master key, base64 of 32 bytes",
            set: { c, v throws(ConfigError) in
                guard let d = Data(base64Encoded: v.trimmingCharacters(in: .whitespacesAndNewlines)), d.count == 32
                else { throw ConfigError("the master key must be 32 bytes, base64-encoded (openssl rand -base64 32)") }
                c.masterKey = v
            }, get: { $0.masterKey }),
        Key(
            name: "master_key_file", kind: .string, secret: false, help: "file holding the master key",
            set: { c, v throws(ConfigError) in
                guard FileManager.default.isReadableFile(atPath: v) else {
                    throw ConfigError("cannot read the master key file \(v)")
                }
                c.masterKeyFile = v
            }, get: { $0.masterKeyFile }),
        Key(
            name: "encryption.previous_master_keys", kind: .list, secret: true,
            help: "master keys being rotated out (base64, comma-separated): what they sealed still opens",
            set: { c, v throws(ConfigError) in
                c.previousMasterKeys = try v.split(separator: ",").map { item throws(ConfigError) in
                    guard let d = Data(base64Encoded: item.trimmingSpaces()), d.count == 32 else {
                        throw ConfigError("each previous master key must be 32 bytes, base64-encoded")
                    }
                    return Array(d)
                }
            },
            get: {
                $0.previousMasterKeys.isEmpty
                    ? nil : $0.previousMasterKeys.map { Data($0).base64EncodedString() }.joined(separator: ",")
            }),
        Key(
            name: "encryption.at_rest", kind: .bool, secret: false,
            help: "encrypt every new object with the server key (SSE-S3), whatever the request asks",
            set: { c, v throws(ConfigError) in c.encryptAtRest = try bool(v) }, get: { String($0.encryptAtRest) }),
        Key(
            name: "encryption.sse_c_over_http", kind: .bool, secret: false,
            help: "accept SSE-C customer keys over plain HTTP (for tests: a key sent in clear is compromised)",
            set: { c, v throws(ConfigError) in c.sseCustomerOverHTTP = try bool(v) },
            get: { String($0.sseCustomerOverHTTP) }),
        Key(
            name: "compression.enabled", kind: .bool, secret: false,
            help: "store new objects of the compression.types compressed (invisible to clients)",
            set: { c, v throws(ConfigError) in c.compression.enabled = try bool(v) },
            get: { String($0.compression.enabled) }),
        Key(
            name: "compression.types", kind: .list, secret: false,
            help: "content types stored compressed, comma-separated; type/* matches a whole type",
            set: { c, v throws(ConfigError) in
                let types = v.split(separator: ",").map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
                guard types.allSatisfy({ $0.split(separator: "/").count == 2 }) else {
                    throw ConfigError("expected content types such as text/* or application/json, got '\(v)'")
                }
                c.compression.types = types
            }, get: { $0.compression.types.joined(separator: ",") }),
        Key(
            name: "compression.level", kind: .number, secret: false, help: "zlib level, 1 (fastest) to 9 (smallest)",
            set: { c, v throws(ConfigError) in
                guard let n = Int(v), (1...9).contains(n) else { throw ConfigError("expected 1 to 9, got '\(v)'") }
                c.compression.level = n
            }, get: { String($0.compression.level) }),
        Key(
            name: "shutdown.timeout", kind: .number, secret: false,
            help: "seconds a graceful shutdown waits for in-flight requests",
            set: { c, v throws(ConfigError) in
                guard let d = Double(v), d >= 0, d <= 86400 else {
                    throw ConfigError("expected seconds from 0 to 86400, got '\(v)'")
                }
                c.shutdownTimeout = d
            }, get: { number($0.shutdownTimeout) }),
        Key(
            name: "http.max_header_bytes", kind: .number, secret: false,
            help: "largest request header section either port accepts, bytes",
            set: { c, v throws(ConfigError) in
                guard let n = Int(v), n >= 8192, n <= 1 << 20 else {
                    throw ConfigError("expected bytes from 8192 to 1048576, got '\(v)'")
                }
                c.maxHeaderBytes = n
            }, get: { String($0.maxHeaderBytes) }),
        Key(
            name: "metrics.history_interval", kind: .number, secret: false,
            help: "seconds between two samples of the metrics history, 0 for none",
            set: { c, v throws(ConfigError) in
                guard let d = Double(v), d == 0 || (d >= 1 && d <= 86400) else {
                    throw ConfigError("expected 0 (no history) or seconds from 1 to 86400, got '\(v)'")
                }
                c.metricsHistoryInterval = d
            }, get: { number($0.metricsHistoryInterval) }),
        Key(
            name: "metrics.history_days", kind: .number, secret: false, help: "days metrics samples are kept",
            set: { c, v throws(ConfigError) in
                guard let d = Double(v), d > 0, d <= 3660 else {
                    throw ConfigError("expected days from more than 0 to 3660, got '\(v)'")
                }
                c.metricsHistoryDays = d
            }, get: { number($0.metricsHistoryDays) }),
        Key(
            name: "metrics.token", kind: .string, secret: true, help: "bearer token /metrics requires",
            set: { c, v throws(ConfigError) in c.metricsToken = v }, get: { $0.metricsToken }),
    ]

    /// A setting that can also change at run time: checked and applied by its runtime definition.
    static func runtimeKey(_ name: String, _ kind: Key.Kind) -> Key {
        let d = RuntimeSettings.definitions.first { $0.name == name }!
        return Key(
            name: name, kind: kind, secret: false, help: d.help + " (changeable at run time)",
            set: { c, v throws(ConfigError) in
                if let problem = d.parse(v, &c.runtime) { throw ConfigError(problem) }
            }, get: { d.show($0.runtime) })
    }

    static func readable(_ v: String) throws(ConfigError) -> String {
        guard FileManager.default.isReadableFile(atPath: v) else { throw ConfigError("cannot read \(v)") }
        return v
    }

    static func address(_ v: String) throws(ConfigError) -> ListenAddress {
        guard let a = ListenAddress(v) else { throw ConfigError("expected HOST:PORT, got '\(v)'") }
        return a
    }

    static func bool(_ v: String) throws(ConfigError) -> Bool {
        switch v.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigError("expected true or false, got '\(v)'")
        }
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    /// The configuration and where each setting came from.
    package struct Loaded: Sendable {
        package var config: ServerConfig
        package var sources: [String: Source]
        package var file: String?
    }

    /// Builds the configuration: defaults, then the file (`MAXIOFS_CONFIG` or `file`; a flag's `--config`
    /// comes as `file`), then the environment, then flags (keyed by setting name). A bad value names its
    /// source: the file and line, the variable or the flag.
    package static func load(file: String?, environment env: [String: String], flags: [String: String])
        throws(ConfigError) -> Loaded
    {
        var loaded = Loaded(config: ServerConfig(), sources: [:], file: nil)
        let path = file ?? env["MAXIOFS_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        if let path {
            loaded.file = path
            try applyFile(path, to: &loaded)
        }
        for key in keys {
            if let v = env[key.environmentName], !v.isEmpty {
                do {
                    try key.set(&loaded.config, v)
                } catch {
                    throw ConfigError("\(key.environmentName): \(error.description)")
                }
                loaded.sources[key.name] = .environment
            }
            if let v = flags[key.name], let flag = key.flagName {
                do {
                    try key.set(&loaded.config, v)
                } catch {
                    throw ConfigError("\(flag): \(error.description)")
                }
                loaded.sources[key.name] = .flag
            }
        }
        try loaded.config.validate()
        return loaded
    }

    static func applyFile(_ path: String, to loaded: inout Loaded) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
            throw ConfigError("cannot read the configuration file \(path): \(reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError("the configuration file \(path) is not UTF-8 text")
        }
        let entries: [TOMLEntry]
        do {
            entries = try TOML.parse(text)
        } catch {
            throw ConfigError("\(path):\(error.line): \(error.message)")
        }
        let byName = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
        for entry in entries {
            let at = "\(path):\(entry.line): \(entry.key)"
            guard let key = byName[entry.key] else {
                let known = keys.map(\.name).joined(separator: ", ")
                throw ConfigError("\(at): unknown setting (known settings: \(known))")
            }
            let text: String
            switch (key.kind, entry.value) {
            case (.string, .string(let s)): text = s
            case (.bool, .bool(let b)): text = b ? "true" : "false"
            case (.number, .integer(let n)): text = String(n)
            case (.number, .float(let d)): text = String(d)
            case (.list, .string(let s)): text = s
            case (.list, .array(let items)):
                var parts: [String] = []
                for item in items {
                    guard case .string(let s) = item else {
                        throw ConfigError("\(at): expected an array of strings, got \(item.typeName) in it")
                    }
                    parts.append(s)
                }
                text = parts.joined(separator: ",")
            default:
                let expected =
                    switch key.kind {
                    case .string: "a string"
                    case .bool: "true or false"
                    case .number: "a number"
                    case .list: "a string or an array of strings"
                    }
                throw ConfigError("\(at): expected \(expected), got \(entry.value.typeName)")
            }
            do {
                try key.set(&loaded.config, text)
            } catch {
                throw ConfigError("\(at): \(error.description)")
            }
            loaded.sources[key.name] = .file
        }
    }

    /// The settings fixed until a restart, as `config print` shows them (secrets masked).
    package var fixedSettings: [(name: String, value: String, help: String)] {
        let dynamic = Set(RuntimeSettings.definitions.map(\.name))
        return Self.keys.filter { !dynamic.contains($0.name) }.map { key in
            let value = key.get(self)
            return (key.name, value == nil ? "" : key.secret ? "********" : value!, key.help)
        }
    }

    /// The effective configuration as a TOML document, secrets masked, each line saying where its value came
    /// from. Unset optional settings are listed commented out.
    package static func render(_ loaded: Loaded) -> String {
        var out = "# MaxIOFS \(MaxIOVersion.string): effective configuration"
        if let f = loaded.file { out += " (file \(f))" }
        out += "\n"
        for key in keys {
            let source = loaded.sources[key.name] ?? .defaultValue
            guard let value = key.get(loaded.config) else {
                out += "# \(key.name) = (not set)  # \(key.help); \(key.environmentName)\n"
                continue
            }
            let shown: String
            if key.secret {
                shown = "\"********\""
            } else {
                switch key.kind {
                case .bool, .number: shown = value
                case .list:
                    let items = value.split(separator: ",").map { quote(String($0)) }
                    shown = "[" + items.joined(separator: ", ") + "]"
                case .string: shown = quote(value)
                }
            }
            out += "\(key.name) = \(shown)  # \(source.rawValue)\n"
        }
        return out
    }

    static func quote(_ s: String) -> String { quotedLiteral(s) }

    package func validate() throws(ConfigError) {
        if (tlsCertFile == nil) != (tlsKeyFile == nil) {
            throw ConfigError(
                "set both tls.cert_file and tls.key_file (MAXIOFS_TLS_CERT_FILE, MAXIOFS_TLS_KEY_FILE), or neither")
        }
        if (s3TLS == true || consoleTLS == true) && tlsCertFile == nil {
            throw ConfigError(
                "s3.tls or console.tls is on, but no certificate is configured: set tls.cert_file and tls.key_file")
        }
        if (rootAccessKey == nil) != (rootSecretKey == nil) {
            throw ConfigError(
                "set both MAXIOFS_ROOT_ACCESS_KEY and MAXIOFS_ROOT_SECRET_KEY, or neither (root.access_key and root.secret_key in the file)"
            )
        }
    }
}
