import Crypto
import Foundation
import MaxIOCore
import MaxIOSigV4

#if canImport(Glibc)
    import Glibc
#endif

/// The root key pair: from the environment, or generated on first start and kept in
/// `DATA/root-credentials` (mode 0600).
package enum RootCredentials {
    package static let fileName = "root-credentials"

    /// The canonical owner id of the root user: stable across key rotations.
    package static let ownerID = Hex.encode(SHA256.hash(data: Array("maxiofs:root".utf8)))

    package struct Loaded {
        package var credential: Credential
        /// Set when the pair was generated now: printed once, never again.
        package var generated: Bool
    }

    package static func load(config: ServerConfig) throws -> Loaded {
        if let ak = config.rootAccessKey, let sk = config.rootSecretKey {
            return Loaded(credential: credential(ak, sk), generated: false)
        }
        let path = config.dataDir + "/" + fileName
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            var ak: String?
            var sk: String?
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if parts[0] == "access_key" { ak = parts[1] }
                if parts[0] == "secret_key" { sk = parts[1] }
            }
            guard let ak, let sk else {
                throw ConfigError("\(path) is malformed: expected access_key= and secret_key= lines")
            }
            return Loaded(credential: credential(ak, sk), generated: false)
        }
        let ak = "AKIA" + random(16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let sk = random(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let content = "access_key=\(ak)\nsecret_key=\(sk)\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ConfigError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(content.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw ConfigError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return Loaded(credential: credential(ak, sk), generated: true)
    }

    static func credential(_ ak: String, _ sk: String) -> Credential {
        Credential(accessKey: ak, secret: sk, ownerID: ownerID, displayName: "root")
    }

    static func random(_ n: Int, alphabet: String) -> String {
        let chars = Array(alphabet)
        var g = SystemRandomNumberGenerator()
        return String((0..<n).map { _ in chars[Int.random(in: 0..<chars.count, using: &g)] })
    }
}
