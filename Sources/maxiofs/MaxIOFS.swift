import ArgumentParser
import Foundation
import MaxIOCore
import MaxIOServer

@main
struct MaxIOFS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maxiofs",
        abstract: "An S3-compatible object store.",
        subcommands: [
            Serve.self, Admin.self, ConfigCommand.self, Check.self, Rewrap.self, BackupMetadata.self, Version.self,
        ])

    static func main() async {
        await main(Self.hoistAdminOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// `maxiofs admin --endpoint URL --username U --password P tenant list`: the connection options come
    /// before the command, where the argument parser does not look for a subcommand's options; move them
    /// after it.
    static func hoistAdminOptions(_ args: [String]) -> [String] {
        guard args.first == "admin" else { return args }
        let valued: Set<String> = ["--endpoint", "--username", "--password"]
        var moved: [String] = []
        var i = 1
        while i < args.count {
            let a = args[i]
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            if valued.contains(name) {
                moved.append(a)
                if !a.contains("="), i + 1 < args.count {
                    moved.append(args[i + 1])
                    i += 1
                }
            } else if a == "--otp" || a.hasPrefix("--otp=") {
                moved.append(a)
                if !a.contains("="), i + 1 < args.count {
                    moved.append(args[i + 1])
                    i += 1
                }
            } else if a == "--json" {
                moved.append(a)
            } else {
                break
            }
            i += 1
        }
        // `--password` before the command is the login's; `user create|update NAME --password P` sets the user's.
        moved = moved.map { $0 == "--password" ? "--login-password" : $0 }
        moved = moved.map { $0.hasPrefix("--password=") ? "--login-" + $0.dropFirst(2) : $0 }
        var rest = Array(args[i...])
        if !(rest.count >= 2 && rest[0] == "user" && (rest[1] == "create" || rest[1] == "update")) {
            rest = rest.map { $0 == "--password" ? "--login-password" : $0 }
        }
        return ["admin"] + rest + moved
    }
}

/// The settings of `maxiofs serve` that have a flag; `ServerConfig.keys` lists them all with their variables.
struct ConfigOptions: ParsableArguments {
    @Option(help: "Configuration file, TOML (MAXIOFS_CONFIG). Flags and MAXIOFS_* variables override it.")
    var config: String?

    @Option(help: "Data directory (MAXIOFS_DATA_DIR). Default: ./data")
    var dataDir: String?

    @Option(help: "S3 API listen address HOST:PORT (MAXIOFS_S3_ADDRESS). Default: 0.0.0.0:8080")
    var s3Address: String?

    @Option(help: "Console listen address HOST:PORT (MAXIOFS_CONSOLE_ADDRESS). Default: 0.0.0.0:8081")
    var consoleAddress: String?

    @Option(help: "Region name (MAXIOFS_REGION). Default: us-east-1")
    var region: String?

    @Option(help: "Base domain(s) for virtual-host-style requests, comma-separated (MAXIOFS_DOMAIN).")
    var domain: String?

    @Option(help: "fsync every write before acknowledging it: true or false (MAXIOFS_FSYNC). Default: true")
    var fsync: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (MAXIOFS_LOG_LEVEL). Default: info")
    var logLevel: String?

    @Option(help: "Log format: text or json (MAXIOFS_LOG_FORMAT). Default: text")
    var logFormat: String?

    @Option(help: "Seconds between lifecycle passes, 0 for none (MAXIOFS_LIFECYCLE_INTERVAL). Default: 3600")
    var lifecycleInterval: String?

    @Option(help: "Seconds in a lifecycle day (MAXIOFS_LIFECYCLE_DAY_SECONDS). Default: 86400")
    var lifecycleDaySeconds: String?

    @Option(help: "S3 requests per second per access key, 0 for no limit (MAXIOFS_S3_REQUESTS_PER_SECOND). Default: 0")
    var s3RequestsPerSecond: String?

    @Option(help: "S3 requests answered at once, 0 for no limit (MAXIOFS_S3_MAX_CONCURRENT_REQUESTS). Default: 0")
    var s3MaxConcurrentRequests: String?

    @Option(
        help:
            "Failed console logins per minute from one address, 0 for no limit (MAXIOFS_CONSOLE_FAILED_LOGINS_PER_MINUTE). Default: 20"
    )
    var consoleFailedLoginsPerMinute: String?

    @Option(help: "Seconds a console session lasts unused (MAXIOFS_SESSION_IDLE_TIMEOUT). Default: 3600")
    var sessionIdleTimeout: String?

    @Option(help: "Seconds a console session lasts at most (MAXIOFS_SESSION_LIFETIME). Default: 43200")
    var sessionLifetime: String?

    @Option(help: "Seconds a graceful shutdown waits for in-flight requests (MAXIOFS_SHUTDOWN_TIMEOUT). Default: 30")
    var shutdownTimeout: String?

    @Option(help: "Largest request header section, bytes (MAXIOFS_HTTP_MAX_HEADER_BYTES). Default: 81920")
    var httpMaxHeaderBytes: String?

    @Option(help: "Seconds between metrics history samples, 0 for none (MAXIOFS_METRICS_HISTORY_INTERVAL). Default: 60")
    var metricsHistoryInterval: String?

    @Option(help: "Days metrics history samples are kept (MAXIOFS_METRICS_HISTORY_DAYS). Default: 7")
    var metricsHistoryDays: String?

    @Option(help: "PEM certificate chain for HTTPS, reloaded on SIGHUP (MAXIOFS_TLS_CERT_FILE).")
    var tlsCertFile: String?

    @Option(help: "PEM private key for HTTPS (MAXIOFS_TLS_KEY_FILE).")
    var tlsKeyFile: String?

    @Option(help: "HTTPS on the S3 port: true or false (MAXIOFS_S3_TLS). Default: when a certificate is set")
    var s3Tls: String?

    @Option(help: "HTTPS on the console port: true or false (MAXIOFS_CONSOLE_TLS). Default: when a certificate is set")
    var consoleTls: String?

    @Option(help: "Days audit entries are kept, 0 for ever (MAXIOFS_AUDIT_RETENTION_DAYS). Default: 90")
    var auditRetentionDays: String?

    @Option(help: "Also audit object writes and deletes: true or false (MAXIOFS_AUDIT_OBJECTS). Default: false")
    var auditObjects: String?

    @Option(help: "Root access key, used at first start (MAXIOFS_ROOT_ACCESS_KEY; the secret key has no flag).")
    var rootAccessKey: String?

    @Option(help: "File holding the master key, base64 (MAXIOFS_MASTER_KEY_FILE).")
    var masterKeyFile: String?

    @Option(
        help:
            "Encrypt every new object with the server key (SSE-S3): true or false (MAXIOFS_ENCRYPTION_AT_REST). Default: true"
    )
    var encryptionAtRest: String?

    @Option(
        help:
            "Accept SSE-C customer keys over plain HTTP, for tests: true or false (MAXIOFS_ENCRYPTION_SSE_C_OVER_HTTP). Default: false"
    )
    var encryptionSseCOverHttp: String?

    @Option(
        help:
            "Store new objects of the compression types compressed: true or false (MAXIOFS_COMPRESSION_ENABLED). Default: false"
    )
    var compressionEnabled: String?

    @Option(
        help:
            "Content types stored compressed, comma-separated (MAXIOFS_COMPRESSION_TYPES). Default: text/*, JSON, XML…")
    var compressionTypes: String?

    @Option(help: "zlib level 1-9 (MAXIOFS_COMPRESSION_LEVEL). Default: 1")
    var compressionLevel: String?

    /// The flags given, keyed by setting name.
    var flags: [String: String] {
        let all: [(String, String?)] = [
            ("data_dir", dataDir), ("s3.address", s3Address), ("console.address", consoleAddress),
            ("region", region), ("domain", domain), ("fsync", fsync), ("log.level", logLevel),
            ("log.format", logFormat), ("lifecycle.interval", lifecycleInterval),
            ("lifecycle.day_seconds", lifecycleDaySeconds), ("audit.retention_days", auditRetentionDays),
            ("audit.objects", auditObjects), ("tls.cert_file", tlsCertFile), ("tls.key_file", tlsKeyFile),
            ("s3.tls", s3Tls), ("console.tls", consoleTls), ("s3.requests_per_second", s3RequestsPerSecond),
            ("s3.max_concurrent_requests", s3MaxConcurrentRequests),
            ("console.failed_logins_per_minute", consoleFailedLoginsPerMinute),
            ("shutdown.timeout", shutdownTimeout), ("http.max_header_bytes", httpMaxHeaderBytes),
            ("metrics.history_interval", metricsHistoryInterval), ("metrics.history_days", metricsHistoryDays),
            ("session.idle_timeout", sessionIdleTimeout), ("session.lifetime", sessionLifetime),
            ("root.access_key", rootAccessKey),
            ("master_key_file", masterKeyFile), ("encryption.at_rest", encryptionAtRest),
            ("encryption.sse_c_over_http", encryptionSseCOverHttp), ("compression.enabled", compressionEnabled),
            ("compression.types", compressionTypes), ("compression.level", compressionLevel),
        ]
        return Dictionary(uniqueKeysWithValues: all.compactMap { k, v in v.map { (k, $0) } })
    }

    func load() throws -> ServerConfig.Loaded {
        do {
            return try ServerConfig.load(file: config, environment: ProcessInfo.processInfo.environment, flags: flags)
        } catch {
            throw CLIError(error.description)
        }
    }
}

/// A failure the user can act on: printed as `Error: <message>` with no usage text, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the S3 API and the console.",
        discussion: """
            Settings come from defaults, the --config file (TOML), MAXIOFS_* environment variables and flags, \
            each overriding the one before. `maxiofs config print` shows the result.
            """)

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let loaded = try options.load()
        do {
            try await Server(config: loaded.config).run()
        } catch let e as ConfigError {
            throw CLIError(e.description)
        }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "The configuration.", subcommands: [ConfigPrint.self])
}

struct ConfigPrint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print",
        abstract:
            "Print the effective configuration (as `maxiofs serve` with the same options would use), secrets masked.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        print(ServerConfig.render(try options.load()), terminator: "")
    }
}

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administration: over the API of a running server, or offline on a data directory.",
        discussion: """
            maxiofs admin --endpoint http://HOST:8081 --username U --password P <command> [--json]
            (or MAXIOFS_ENDPOINT, MAXIOFS_USERNAME, MAXIOFS_PASSWORD). abort-uploads and lifecycle work on --data-dir.
            """,
        subcommands: [
            TenantCommand.self, UserCommand.self, KeyCommand.self, GroupCommand.self, BucketPermissionCommand.self,
            PasswordCommand.self,
            BucketQuotaCommand.self, AuditCommand.self, InfoCommand.self, SettingsCommand.self, AbortUploads.self,
            Lifecycle.self,
        ])
}

struct AbortUploads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort-uploads",
        abstract: "Abort multipart uploads started longer ago than --older-than, removing their parts.",
        discussion: "Safe while the server runs: an upload that completes meanwhile is left alone.")

    @Option(help: "Data directory (MAXIOFS_DATA_DIR). Default: ./data")
    var dataDir: String?

    @Option(help: "Age of the uploads to abort: 7d, 12h, 30m, 90s or seconds. Default: 7d")
    var olderThan: String = "7d"

    @Flag(help: "Only list the uploads that would be aborted.")
    var dryRun = false

    func run() async throws {
        guard let age = MaxIOServer.Admin.parseDuration(olderThan) else {
            throw ValidationError("--older-than: '\(olderThan)' is not a duration such as 7d, 12h, 30m or 90s")
        }
        let dir = dataDir ?? ProcessInfo.processInfo.environment["MAXIOFS_DATA_DIR"] ?? "./data"
        let uploads: [MaxIOServer.Admin.UploadSummary]
        do {
            uploads = try await MaxIOServer.Admin.abortStaleUploads(dataDir: dir, olderThan: age, dryRun: dryRun)
        } catch let e as ConfigError {
            throw ValidationError(e.description)
        }
        let formatter = ISO8601DateFormatter()
        for u in uploads {
            print(
                "\(dryRun ? "would abort" : "aborted") \(u.bucket)/\(u.key) \(u.uploadID) (initiated \(formatter.string(from: u.initiated)))"
            )
        }
        print("\(uploads.count) upload(s) \(dryRun ? "would be aborted" : "aborted")")
    }
}

struct Lifecycle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Lifecycle rules.", subcommands: [LifecycleRun.self])
}

struct LifecycleRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Apply every bucket's lifecycle rules once, now.",
        discussion: """
            The server applies them every MAXIOFS_LIFECYCLE_INTERVAL seconds by itself. Run this with the server \
            stopped, or accept that a GET streaming a multipart object that this pass expires may fail.
            """)

    @Option(help: "Data directory (MAXIOFS_DATA_DIR). Default: ./data")
    var dataDir: String?

    @Option(help: "Seconds in a lifecycle day (MAXIOFS_LIFECYCLE_DAY_SECONDS). Default: 86400")
    var daySeconds: Double?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let dir = dataDir ?? env["MAXIOFS_DATA_DIR"] ?? "./data"
        var day = daySeconds ?? 86400
        if daySeconds == nil, let v = env["MAXIOFS_LIFECYCLE_DAY_SECONDS"] {
            guard let d = Double(v) else {
                throw ValidationError("MAXIOFS_LIFECYCLE_DAY_SECONDS: expected a number of seconds, got '\(v)'")
            }
            day = d
        }
        guard day > 0, day <= 1e9 else { throw ValidationError("--day-seconds must be positive") }
        do {
            print(try await MaxIOServer.Admin.runLifecycle(dataDir: dir, dayLength: day))
        } catch let e as ConfigError {
            throw ValidationError(e.description)
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that the catalog and the blob files agree (offline: the server must be stopped).",
        discussion: """
            Reports blobs the catalog refers to that are missing or have the wrong size, files under blobs/ that \
            nothing refers to (orphans), and files left in tmp/. --repair removes orphans and temporary files; \
            missing or damaged blobs are only reported. Exit status 0 when nothing is left to fix, 1 otherwise.
            """)

    @Option(help: "Data directory (MAXIOFS_DATA_DIR). Default: ./data")
    var dataDir: String?

    @Flag(help: "Remove orphaned blob files and temporary files.")
    var repair = false

    func run() async throws {
        let dir = dataDir ?? ProcessInfo.processInfo.environment["MAXIOFS_DATA_DIR"] ?? "./data"
        let r: MaxIOServer.Admin.CheckReport
        do {
            r = try await MaxIOServer.Admin.check(dataDir: dir, repair: repair)
        } catch let e as ConfigError {
            throw CLIError(e.description)
        }
        for line in r.lines { print(line) }
        if !r.clean { throw ExitCode(1) }
    }
}

struct Rewrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "After a master key rotation, move everything sealed with the previous keys to the current one.",
        discussion: """
            Rotation: configure the new key as the master key (MAXIOFS_MASTER_KEY or MAXIOFS_MASTER_KEY_FILE) and the \
            old one in MAXIOFS_ENCRYPTION_PREVIOUS_MASTER_KEYS; the server reads everything meanwhile. Then, with the \
            server stopped, run this with the same settings: it rewrites the header of every encrypted blob (not \
            its data) and seals the catalog's secrets again. Afterwards the previous keys can be removed. Exit \
            status 0 when nothing is left on a previous key, 1 otherwise.
            """)

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let loaded = try options.load()
        let result: (lines: [String], clean: Bool)
        do {
            result = try await MaxIOServer.Admin.rewrap(config: loaded.config)
        } catch let e as ConfigError {
            throw CLIError(e.description)
        }
        for line in result.lines { print(line) }
        if !result.clean { throw ExitCode(1) }
    }
}

struct BackupMetadata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup-metadata",
        abstract: "Copy the catalog (meta.sqlite) consistently, also while the server runs.",
        discussion: """
            Uses SQLite's online backup, checks the copy's integrity, then moves it into place. Blobs are not \
            copied: back up the data directory's blobs/ with your file backup, after this command.
            """)

    @Option(help: "Data directory (MAXIOFS_DATA_DIR). Default: ./data")
    var dataDir: String?

    @Option(help: "The file to write.")
    var output: String

    @Flag(help: "Replace the output file if it exists.")
    var force = false

    func run() async throws {
        let dir = dataDir ?? ProcessInfo.processInfo.environment["MAXIOFS_DATA_DIR"] ?? "./data"
        do {
            print(try await MaxIOServer.Admin.backupMetadata(dataDir: dir, output: output, force: force))
        } catch let e as ConfigError {
            throw CLIError(e.description)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() {
        print("maxiofs \(MaxIOVersion.string)")
    }
}
