import Foundation
import MaxIOIAM

#if canImport(Glibc)
    import Glibc
#endif

/// The master key that seals secrets in the catalog: `MAXIOFS_MASTER_KEY` (base64 of 32 bytes),
/// `MAXIOFS_MASTER_KEY_FILE` (a file holding that), or `DATA/master.key`, generated on first start.
enum MasterKeyLoader {
    static let fileName = "master.key"

    struct Loaded {
        var key: MasterKey
        /// Its 32 bytes (the blob keyring derives its keys from them).
        var bytes: [UInt8]
        /// Where it came from, for the start-up message.
        var source: String
        var generated: Bool
    }

    static func load(config: ServerConfig) throws -> Loaded {
        if let text = config.masterKey {
            let bytes = try decode(text, what: "MAXIOFS_MASTER_KEY")
            return Loaded(
                key: try MasterKey(bytes: bytes), bytes: bytes, source: "MAXIOFS_MASTER_KEY", generated: false)
        }
        if let path = config.masterKeyFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError("MAXIOFS_MASTER_KEY_FILE: cannot read \(path)")
            }
            let bytes = try decode(text, what: path)
            return Loaded(key: try MasterKey(bytes: bytes), bytes: bytes, source: path, generated: false)
        }
        let path = config.dataDir + "/" + fileName
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let bytes = try decode(text, what: path)
            return Loaded(key: try MasterKey(bytes: bytes), bytes: bytes, source: path, generated: false)
        }
        let bytes = MasterKey.generateBytes()
        let content = Data(bytes).base64EncodedString() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let data = Array(content.utf8)
        guard write(fd, data, data.count) == data.count, fsync(fd) == 0 else {
            throw ConfigError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return Loaded(key: try MasterKey(bytes: bytes), bytes: bytes, source: path, generated: true)
    }

    static func decode(_ text: String, what: String) throws -> [UInt8] {
        guard let d = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), d.count == 32 else {
            throw ConfigError("\(what): the master key must be 32 bytes, base64-encoded (openssl rand -base64 32)")
        }
        return Array(d)
    }

    /// Whether the key lives in the data directory, next to the data it protects.
    static func inDataDirectory(_ loaded: Loaded, config: ServerConfig) -> Bool {
        loaded.source == config.dataDir + "/" + fileName
    }
}
