import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MaxIOConsole
import MaxIOCore
import MaxIOIAM
import MaxIOS3API
import MaxIOSQLite
import MaxIOSigV4
import MaxIOStorage
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The composition root: builds stores and services and runs both HTTP fronts in one ServiceGroup.
package struct Server {
    let config: ServerConfig

    package init(config: ServerConfig) {
        self.config = config
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    package func run() async throws {
        let level = SharedLogLevel(Logger.Level(rawValue: config.logLevel) ?? .info)
        let runtime = RuntimeSettings(config.runtime)
        let format: LineLogHandler.Format = config.logFormat == "json" ? .json : .text
        let logger = Logger(label: "maxiofs") { label in LineLogHandler(label: label, format: format, level: level) }
        try config.validate()
        try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true)
        // One server per data directory: the start-up clean-up below would otherwise delete the temporary files
        // and not yet committed blobs of a server already running on it. Held until the process exits.
        let lock = try DataDirectoryLock(dataDir: config.dataDir)
        defer { withExtendedLifetime(lock) {} }
        let catalogPath = config.dataDir + "/meta.sqlite"
        let catalogExisted = FileManager.default.fileExists(atPath: catalogPath)
        let master = try MasterKeyLoader.load(config: config)
        if MasterKeyLoader.inDataDirectory(master, config: config) {
            logger.warning(
                "the master key is in the data directory, next to the data it protects: anyone with a copy of the directory can read every encrypted object and access-key secret. Keep it apart: MAXIOFS_MASTER_KEY_FILE or MAXIOFS_MASTER_KEY (see docs/configuration.md)",
                metadata: ["path": "\(master.source)", "generated": "\(master.generated)"])
        }
        let keyring = BlobKeyring(master: master.bytes, previous: config.previousMasterKeys)
        let blobs = try FileBlobStore(root: config.dataDir, durable: config.durable, keyring: keyring)
        let stats = MaintenanceStats()
        let cleaned = try blobs.cleanTemporary()
        stats.update { $0.startupTemporaryRemoved = UInt64(cleaned) }
        if cleaned > 0 { logger.notice("removed \(cleaned) temporary files left by an earlier run") }
        let metadata = try SQLiteMetadataStore(path: catalogPath, durable: config.durable)
        if catalogExisted {
            let orphans = try blobs.collectOrphans(
                referenced: try await metadata.referencedBlobIDs(), olderThan: Date(),
                notBefore: try await metadata.createdAt())
            stats.update { $0.startupOrphansRemoved = UInt64(orphans) }
            if orphans > 0 { logger.notice("removed \(orphans) unreferenced blobs left by an earlier run") }
        } else if blobs.hasBlobs() {
            // A new catalog next to existing blobs (a lost or replaced meta.sqlite): they are older than the
            // catalog, so no start-up ever collects them.
            logger.warning(
                "new catalog in a data directory that holds blobs: the existing blobs are kept, never collected",
                metadata: ["data_dir": "\(config.dataDir)"])
        }

        let root = try RootCredentials.load(config: config)
        if root.generated {
            Self.say(
                "Generated root credentials (shown once; saved in \(config.dataDir)/\(RootCredentials.fileName), mode 0600):"
            )
            Self.say("  access key: \(root.credential.accessKey)")
            Self.say("  secret key: \(root.credential.secret)")
        }
        let iam = IAMService(
            store: metadata, masterKey: try MasterKey(bytes: master.bytes, previous: config.previousMasterKeys),
            rootAccessKey: root.credential.accessKey,
            rootSecret: root.credential.secret, rootUserID: RootCredentials.ownerID, settings: runtime)
        do {
            if let generated = try await iam.bootstrap(adminPassword: config.adminPassword) {
                Self.say("Generated the console password of the user admin (shown once; change it at first login):")
                Self.say("  password: \(generated)")
            }
        } catch let e as IAMError {
            switch e {
            case .invalid(let m), .notFound(let m), .alreadyExists(let m), .quotaExceeded(let m), .forbidden(let m),
                .notEmpty(let m):
                throw ConfigError(m)
            }
        }
        var tls: TLSContextBox?
        if let cert = config.tlsCertFile, let key = config.tlsKeyFile {
            tls = try TLSContextBox(certificateFile: cert, keyFile: key)
        }
        let s3Scheme = config.s3UsesTLS ? "https" : "http"
        let http = HTTP1Channel.Configuration(
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: config.maxHeaderBytes, maxHeaderListSize: config.maxHeaderBytes))
        let consoleScheme = config.consoleUsesTLS ? "https" : "http"
        let objects = ObjectService(metadata: metadata, blobs: blobs, logger: logger, compression: config.compression)
        let audit = AuditLog(store: metadata, logger: logger)
        let s3 = S3API(
            config: S3APIConfig(
                region: config.region, domains: config.domains, lifecycleDay: config.lifecycleDay,
                secureTransport: config.s3UsesTLS, encryptAtRest: config.encryptAtRest,
                customerKeysOverHTTP: config.sseCustomerOverHTTP),
            iam: iam, objects: objects, logger: logger, audit: audit, settings: runtime)

        let s3App = Application(
            responder: s3, server: .maxiofs(tls: config.s3UsesTLS ? tls : nil, configuration: http),
            configuration: .init(
                address: .hostname(config.s3Address.host, port: config.s3Address.port), serverName: nil),
            onServerRunning: { channel in
                Self.say(
                    "MaxIOFS \(MaxIOVersion.string): S3 API listening on \(s3Scheme)://\(channel.localAddress.map(Self.describe) ?? "?")"
                )
            },
            logger: logger)

        let console = Router(context: ConsoleRequestContext.self)
        let startedAt = Date()
        let region = config.region
        let settingsAPI = SettingsAPI(
            runtime: runtime, store: metadata,
            fixed: config.fixedSettings)
        for problem in try await settingsAPI.applyStored() {
            logger.warning("a stored runtime setting was dropped", metadata: ["problem": "\(problem)"])
        }
        runtime.observe { v in level.level = Logger.Level(rawValue: v.logLevel) ?? .info }
        ConsoleAPI(
            iam: iam, metadata: metadata, audit: audit, logger: logger, settings: settingsAPI, history: metadata,
            secureCookies: config.consoleUsesTLS,
            s3: { request, channel, principal in await s3.respond(to: request, channel: channel, onBehalfOf: principal)
            },
            info: {
                let c = try await metadata.catalogCounts()
                var storage: [String: any Sendable] = ["used_bytes": c.bytes]
                if let (total, available) = try? await blobs.capacity() {
                    storage["total_bytes"] = total
                    storage["available_bytes"] = available
                }
                return [
                    "version": MaxIOVersion.string, "region": region, "started_at": WireDate.iso8601(startedAt),
                    "uptime_seconds": Int(Date().timeIntervalSince(startedAt)), "storage": storage,
                    "counts": [
                        "buckets": c.buckets, "objects": c.objects, "uploads": c.uploads, "tenants": c.tenants,
                        "users": c.users, "access_keys": c.accessKeys,
                    ] as [String: any Sendable],
                ]
            }
        ).register(on: console)
        ConsoleUI.register(on: console)
        console.get("/health") { _, _ in "ok\n" }
        console.get("/health/live") { _, _ in "ok\n" }
        let dataDir = config.dataDir
        console.get("/health/ready") { _, _ -> Response in
            let (ready, body) = await Self.readiness(metadata: metadata, blobs: blobs, dataDir: dataDir)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        let metricsToken = config.metricsToken
        let metrics = s3.metrics
        console.get("/metrics") { request, _ -> Response in
            if let token = metricsToken,
                !constantTimeEqual(request.headers[.authorization] ?? "", "Bearer " + token),
                !(await Self.isAdminSession(request, iam: iam))
            {
                var headers = HTTPFields()
                headers[.wwwAuthenticate] = "Bearer"
                return Response(status: .unauthorized, headers: headers)
            }
            var extra: [(name: String, help: String, type: String, value: Double)] = []
            if let (total, available) = try? await blobs.capacity() {
                extra.append(
                    ("maxiofs_storage_total_bytes", "Size of the data directory's file system.", "gauge", Double(total))
                )
                extra.append(
                    ("maxiofs_storage_available_bytes", "Bytes available to new blobs.", "gauge", Double(available)))
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            let text = metrics.render(extra: extra) + (await ServerMetrics.render(metadata: metadata, stats: stats))
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        let consoleApp = Application(
            router: console, server: .maxiofs(tls: config.consoleUsesTLS ? tls : nil, configuration: http),
            configuration: .init(
                address: .hostname(config.consoleAddress.host, port: config.consoleAddress.port), serverName: "MaxIOFS"),
            onServerRunning: { channel in
                Self.say(
                    "MaxIOFS \(MaxIOVersion.string): console listening on \(consoleScheme)://\(channel.localAddress.map(Self.describe) ?? "?")"
                )
            },
            logger: logger)

        Self.say(
            "MaxIOFS \(MaxIOVersion.string): data directory \(config.dataDir), region \(config.region), fsync \(config.durable ? "on" : "off")"
        )
        var services: [any Service] = [s3App, consoleApp]
        services.append(CertificateReloader(box: tls, logger: logger))
        if config.auditRetentionDays > 0 {
            services.append(AuditRetention(store: metadata, days: config.auditRetentionDays, logger: logger))
        }
        services.append(
            LifecycleWorker(
                lifecycle: LifecycleService(objects: objects, dayLength: config.lifecycleDay, logger: logger),
                settings: runtime, stats: stats, logger: logger))
        if config.metricsHistoryInterval > 0 {
            services.append(
                MetricsSampler(
                    metrics: s3.metrics, metadata: metadata, interval: config.metricsHistoryInterval,
                    retention: config.metricsHistoryDays * 86400, logger: logger))
        }
        var groupConfig = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // In-flight requests get this long to finish; then they are cancelled and their connections closed.
        groupConfig.maximumGracefulShutdownDuration = .milliseconds(Int64(config.shutdownTimeout * 1000))
        groupConfig.maximumCancellationDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfig)
        do {
            try await group.run()
        } catch {
            await blobs.shutdown()
            throw error
        }
        await blobs.shutdown()
        Self.say("MaxIOFS: stopped")
    }

    /// Whether the request carries the session token of a global administrator (the console's own charts).
    static func isAdminSession(_ request: Request, iam: IAMService) async -> Bool {
        guard let h = request.headers[.authorization], h.hasPrefix("Bearer "),
            let (actor, user) = try? await iam.authenticate(token: String(h.dropFirst(7))), !user.mustChangePassword
        else { return false }
        return actor.isGlobalAdmin
    }

    /// Ready when the catalog answers and the data directory takes writes.
    static func readiness(metadata: any MetadataStore, blobs: FileBlobStore, dataDir: String) async -> (Bool, String) {
        var catalog = "ok"
        do {
            _ = try await metadata.listBuckets(owner: nil, prefix: nil, after: nil, limit: 1)
        } catch {
            catalog = "error"
        }
        var data = "ok"
        if access(dataDir + "/tmp", W_OK) != 0 {
            data = "not writable"
        } else if let (_, available) = try? await blobs.capacity(), available <= 0 {
            data = "full"
        }
        let ready = catalog == "ok" && data == "ok"
        return (
            ready,
            "{\"status\":\"\(ready ? "ready" : "not ready")\",\"version\":\"\(MaxIOVersion.string)\",\"checks\":{\"catalog\":\"\(catalog)\",\"data_dir\":\"\(data)\"}}\n"
        )
    }

    static func describe(_ a: SocketAddress) -> String {
        "\(a.ipAddress ?? "?"):\(a.port ?? 0)"
    }
}
