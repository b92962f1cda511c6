import ArgumentParser
import Foundation
import MaxIOServer

@main
struct MaxIOFS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maxiofs",
        abstract: "An S3-compatible object store.",
        subcommands: [Serve.self, Version.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the S3 API and the console.",
        discussion: "Every flag also comes from a MAXIOFS_* environment variable; flags win.")

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

    @Option(help: "Log level: trace, debug, info, notice, warning, error (MAXIOFS_LOG_LEVEL). Default: info")
    var logLevel: String?

    func run() async throws {
        var config = ServerConfig()
        var env = ProcessInfo.processInfo.environment
        // Flags override the environment: apply them through the same parser.
        if let v = dataDir { env["MAXIOFS_DATA_DIR"] = v }
        if let v = s3Address { env["MAXIOFS_S3_ADDRESS"] = v }
        if let v = consoleAddress { env["MAXIOFS_CONSOLE_ADDRESS"] = v }
        if let v = region { env["MAXIOFS_REGION"] = v }
        if let v = domain { env["MAXIOFS_DOMAIN"] = v }
        if let v = fsync { env["MAXIOFS_FSYNC"] = v }
        if let v = logLevel { env["MAXIOFS_LOG_LEVEL"] = v }
        do {
            try config.apply(environment: env)
            try await Server(config: config).run()
        } catch let e as ConfigError {
            throw ValidationError(e.description)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() {
        print("maxiofs \(MaxIOVersion.string)")
    }
}
