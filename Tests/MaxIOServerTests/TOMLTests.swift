import Foundation
import Testing

@testable import MaxIOServer

@Suite struct TOMLTests {
    @Test func tablesDottedKeysAndValues() throws {
        let doc = """
            # comment
            top = "a \\"quoted\\" \\u00e9 value"  # trailing comment
            literal = 'C:\\path'
            [s3]
            address = "127.0.0.1:9000"
            [lifecycle]
            interval = 1_800
            day = 2.5
            neg = -3
            hex = 0xff
            on = true
            list = [
              "x", # first
              "y",
            ]
            "quoted key".inner = false
            """
        let entries = try TOML.parse(doc)
        let map = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) })
        #expect(map["top"] == .string("a \"quoted\" é value"))
        #expect(map["literal"] == .string("C:\\path"))
        #expect(map["s3.address"] == .string("127.0.0.1:9000"))
        #expect(map["lifecycle.interval"] == .integer(1800))
        #expect(map["lifecycle.day"] == .float(2.5))
        #expect(map["lifecycle.neg"] == .integer(-3))
        #expect(map["lifecycle.hex"] == .integer(255))
        #expect(map["lifecycle.on"] == .bool(true))
        #expect(map["lifecycle.list"] == .array([.string("x"), .string("y")]))
        #expect(map["lifecycle.quoted key.inner"] == .bool(false))
        #expect(entries.first { $0.key == "s3.address" }?.line == 5)
    }

    @Test(arguments: [
        ("a = 1\na = 2", 2, "set twice"),
        ("a = eu", 1, "must be quoted"),
        ("a = s3cr3t", 1, "must be quoted"),
        ("a = 0x1.8p1", 1, "not a valid number"),
        ("a = 1e400", 1, "out of range"),
        ("a = \"open", 1, "unterminated string"),
        ("a = \"\"\"x\"\"\"", 1, "multi-line strings"),
        ("a = {b = 1}", 1, "inline tables"),
        ("[[t]]", 1, "arrays of tables"),
        ("[t]\n[t]", 2, "defined twice"),
        ("a = 1 2", 1, "unexpected text"),
        ("a = 007", 1, "leading zeros"),
        ("a = [1, 2", 1, "unterminated array"),
        ("a = \"bad \\q\"", 1, "invalid escape"),
        ("= 1", 1, "expected a key"),
        ("a 1", 1, "expected '='"),
        ("x = 1\n\na = ", 3, "expected a value"),
    ])
    func errorsNameTheLine(doc: String, line: Int, message: String) {
        do {
            _ = try TOML.parse(doc)
            Issue.record("parsed: \(doc)")
        } catch {
            #expect(error.line == line, "\(doc): \(error)")
            #expect(error.message.contains(message), "\(doc): \(error)")
            #expect(!error.message.contains("s3cr3t"), "a secret echoed: \(error)")
        }
    }

    @Test func configPrecedenceFileEnvironmentFlags() throws {
        let path = "/tmp/maxiofs-config-test-\(UInt32.random(in: 0...UInt32.max)).toml"
        try "region = \"eu-west-1\"\nfsync = false\n[log]\nlevel = \"debug\"\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ServerConfig.load(
            file: path, environment: ["MAXIOFS_REGION": "ap-south-1", "MAXIOFS_LOG_LEVEL": "error"],
            flags: ["log.level": "warning"])
        #expect(loaded.config.region == "ap-south-1")
        #expect(loaded.sources["region"] == .environment)
        #expect(loaded.config.durable == false)
        #expect(loaded.sources["fsync"] == .file)
        #expect(loaded.config.logLevel == "warning")
        #expect(loaded.sources["log.level"] == .flag)
        #expect(loaded.sources["data_dir"] == nil)
        let printed = ServerConfig.render(loaded)
        #expect(printed.contains("region = \"ap-south-1\"  # environment"))
        #expect(printed.contains("fsync = false  # file"))
    }

    @Test func secretsAreMaskedAndHaveNoFlag() throws {
        let loaded = try ServerConfig.load(
            file: nil,
            environment: ["MAXIOFS_ROOT_ACCESS_KEY": "AKIAEXAMPLE", "MAXIOFS_ROOT_SECRET_KEY": "very-secret-value"],
            flags: [:])
        let printed = ServerConfig.render(loaded)
        #expect(!printed.contains("very-secret-value"))
        #expect(printed.contains("root.secret_key = \"********\""))
        #expect(printed.contains("root.access_key = \"AKIAEXAMPLE\""))
        for key in ServerConfig.keys where key.secret { #expect(key.flagName == nil) }
        #expect(ServerConfig.keys.first { $0.name == "lifecycle.day_seconds" }?.flagName == "--lifecycle-day-seconds")
        #expect(
            ServerConfig.keys.first { $0.name == "lifecycle.day_seconds" }?.environmentName
                == "MAXIOFS_LIFECYCLE_DAY_SECONDS")
    }
}
