import Crypto
import Foundation
import MaxIOCore

/// Time-based one-time passwords (RFC 6238): HMAC-SHA1, 6 digits, 30-second steps, one step of clock drift
/// either way.
package enum TOTP {
    package static let digits = 6
    package static let period: TimeInterval = 30
    package static let window: Int64 = 1

    package static func generateSecret() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// The code for one time step (RFC 4226 dynamic truncation).
    package static func code(secret: [UInt8], counter: Int64) -> String {
        var c = UInt64(bitPattern: counter).bigEndian
        let message = withUnsafeBytes(of: &c) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value =
            (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8)
            | UInt32(mac[offset + 3])
        let n = value % 1_000_000
        let s = String(n)
        return String(repeating: "0", count: digits - s.count) + s
    }

    package static func counter(at date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / period).rounded(.down)) }

    /// The time step whose code `code` is, within the window around `date`; nil when none matches.
    package static func match(secret: [UInt8], code: String, at date: Date) -> Int64? {
        let digitsOnly = code.filter { !$0.isWhitespace }
        guard digitsOnly.count == digits, digitsOnly.allSatisfy(\.isASCII), digitsOnly.allSatisfy(\.isNumber) else {
            return nil
        }
        let now = counter(at: date)
        var found: Int64?
        for step in (now - window)...(now + window) {
            // Compare every candidate, so the time does not tell which step matched.
            if constantTimeEqual(Self.code(secret: secret, counter: step), digitsOnly) { found = step }
        }
        return found
    }

    /// `otpauth://` URI for authenticator apps.
    package static func uri(secret: [UInt8], account: String, issuer: String = "MaxIOFS") -> String {
        func enc(_ s: String) -> String { PercentEncoding.encode(s) }
        return
            "otpauth://totp/\(enc(issuer)):\(enc(account))?secret=\(Base32.encode(secret))&issuer=\(enc(issuer))&algorithm=SHA1&digits=\(digits)&period=\(Int(period))"
    }

    /// Ten one-time backup codes (`xxxx-xxxx`, lower-case letters and digits without look-alikes).
    package static func backupCodes(count: Int = 10) -> [String] {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var rng = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            let chars = (0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            return String(chars[0..<4]) + "-" + String(chars[4..<8])
        }
    }

    /// How a backup code is kept: its SHA-256, of the code without dashes or case.
    package static func backupCodeHash(_ code: String) -> String {
        let normal = code.lowercased().filter { $0 != "-" && !$0.isWhitespace }
        return Hex.encode(Array(SHA256.hash(data: Array(normal.utf8))))
    }
}

/// RFC 4648 base32 (authenticator apps take secrets in it), without padding.
package enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    package static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | Int(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }

    package static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = 0
        var bits = 0
        for c in text.uppercased().utf8 where c != UInt8(ascii: "=") && c != UInt8(ascii: " ") {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5) | v
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }
}
