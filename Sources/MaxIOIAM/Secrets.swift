import Crypto
import CryptoExtras
import Foundation
import MaxIOCore

/// Password hashing with scrypt (N = 2^15, r = 8, p = 1: about 32 MiB and tens of milliseconds per check),
/// stored as `scrypt$N$r$p$salt$hash` (base64).
package enum PasswordHasher {
    static let n = 1 << 15
    static let r = 8
    static let p = 1

    package static func hash(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var g = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &g) }
        let key = try derive(password, salt: salt, n: n, r: r, p: p)
        return "scrypt$\(n)$\(r)$\(p)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    package static func verify(_ password: String, hash stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]),
            let p = Int(parts[3]), n > 1, n <= 1 << 20, r > 0, r <= 32, p > 0, p <= 16,
            let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]),
            let key = try? derive(password, salt: Array(salt), n: n, r: r, p: p, length: expected.count)
        else { return false }
        return constantTimeEqual(key, Array(expected))
    }

    static func derive(_ password: String, salt: [UInt8], n: Int, r: Int, p: Int, length: Int = 32) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length, rounds: n, blockSize: r, parallelism: p)
        return key.withUnsafeBytes { Array($0) }
    }

    /// Why a password is refused, or nil: at least 8 characters, with 3 of lower case, upper case, digits
    /// and other characters.
    package static func policyViolation(_ password: String) -> String? {
        if password.count < 8 { return "The password must be at least 8 characters long." }
        if password.count > 256 { return "The password must be at most 256 characters long." }
        var classes = 0
        if password.contains(where: { $0.isLowercase }) { classes += 1 }
        if password.contains(where: { $0.isUppercase }) { classes += 1 }
        if password.contains(where: { $0.isNumber }) { classes += 1 }
        if password.contains(where: { !$0.isLetter && !$0.isNumber }) { classes += 1 }
        if classes < 3 {
            return
                "The password must contain at least three of: lower-case letters, upper-case letters, digits, symbols."
        }
        return nil
    }

    /// A generated password that meets the policy.
    package static func generate() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var g = SystemRandomNumberGenerator()
        let body = String((0..<18).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] })
        return "Mx-" + body + "9"
    }
}

/// The server's master key: seals secrets kept in the catalog (access-key secrets) with AES-256-GCM.
package struct MasterKey: Sendable {
    let key: SymmetricKey
    /// Keys being rotated out: what they sealed still opens; new values are sealed with `key`.
    let previous: [SymmetricKey]

    package init(bytes: [UInt8], previous: [[UInt8]] = []) throws {
        guard bytes.count == 32, previous.allSatisfy({ $0.count == 32 }) else {
            throw IAMError.invalid("the master key must be 32 bytes")
        }
        key = SymmetricKey(data: bytes)
        self.previous = previous.filter { $0 != bytes }.map { SymmetricKey(data: $0) }
    }

    package static func generateBytes() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// nonce || ciphertext || tag, bound to `context` (e.g. the access key id) so sealed values cannot be swapped.
    package func seal(_ plaintext: String, context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw IAMError.invalid("cannot seal") }
        return Array(combined)
    }

    package func open(_ sealed: [UInt8], context: String) throws -> String {
        try openNoting(sealed, context: context).text
    }

    /// `open`, and whether the value was sealed with a previous key (and should be sealed again).
    package func openNoting(_ sealed: [UInt8], context: String) throws -> (text: String, stale: Bool) {
        let box = try AES.GCM.SealedBox(combined: sealed)
        var plain: Data?
        var stale = false
        do {
            plain = try AES.GCM.open(box, using: key, authenticating: Array(context.utf8))
        } catch {
            for old in previous {
                if let p = try? AES.GCM.open(box, using: old, authenticating: Array(context.utf8)) {
                    plain = p
                    stale = true
                    break
                }
            }
            guard plain != nil else { throw error }
        }
        guard let plain, let text = String(bytes: plain, encoding: .utf8) else {
            throw IAMError.invalid("sealed value is not text")
        }
        return (text, stale)
    }
}
