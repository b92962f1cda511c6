import Foundation
import Testing

@testable import MaxIOIAM

@Suite struct TOTPTests {
    /// RFC 6238 appendix B, SHA-1 (the 8-digit values, of which a 6-digit code is the last six digits).
    @Test(arguments: [
        (59.0, "287082"), (1_111_111_109.0, "081804"), (1_111_111_111.0, "050471"), (1_234_567_890.0, "005924"),
        (2_000_000_000.0, "279037"), (20_000_000_000.0, "353130"),
    ])
    func rfc6238Vectors(time: Double, expected: String) {
        let secret = Array("12345678901234567890".utf8)
        #expect(TOTP.code(secret: secret, counter: TOTP.counter(at: Date(timeIntervalSince1970: time))) == expected)
    }

    @Test func matchAllowsOneStepOfDrift() {
        let secret = TOTP.generateSecret()
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let c = TOTP.counter(at: now)
        #expect(TOTP.match(secret: secret, code: TOTP.code(secret: secret, counter: c), at: now) == c)
        #expect(TOTP.match(secret: secret, code: TOTP.code(secret: secret, counter: c - 1), at: now) == c - 1)
        #expect(TOTP.match(secret: secret, code: TOTP.code(secret: secret, counter: c + 1), at: now) == c + 1)
        #expect(TOTP.match(secret: secret, code: TOTP.code(secret: secret, counter: c - 2), at: now) == nil)
        #expect(TOTP.match(secret: secret, code: "12345", at: now) == nil)
        #expect(TOTP.match(secret: secret, code: "abcdef", at: now) == nil)
    }

    @Test func base32RoundTripAndRFC4648Vectors() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.encode(Array("f".utf8)) == "MY")
        #expect(Base32.decode("MZXW6YTBOI") == Array("foobar".utf8))
        let s = TOTP.generateSecret()
        #expect(Base32.decode(Base32.encode(s)) == s)
        #expect(Base32.decode("not base32!") == nil)
    }

    @Test func backupCodesAreDistinctAndHashNormalised() {
        let codes = TOTP.backupCodes()
        #expect(codes.count == 10 && Set(codes).count == 10)
        #expect(codes.allSatisfy { $0.count == 9 && $0.contains("-") })
        #expect(TOTP.backupCodeHash("ABCD-efgh") == TOTP.backupCodeHash("abcdefgh"))
    }
}
