import Foundation
import Testing

@testable import MaxIOSigV4

/// AWS's published Signature Version 2 examples ("Signing and authenticating REST requests"; the
/// query-string example is the one published with the `johnsmith` bucket).
@Suite struct SigV2Tests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test func objectGet() throws {
        let r = SignableRequest(
            method: "GET", rawPath: "/photos/puppy.jpg", rawQuery: "",
            headers: [
                ("host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"), ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
                ("authorization", "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
            ])
        let parsed = try SigV2.parse(r, now: Date(timeIntervalSince1970: 1_175_024_202))
        #expect(
            SigV2.stringToSign(r, parsed: parsed, bucketFromHost: "awsexamplebucket1")
                == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg")
        _ = try SigV2.verify(parsed, secret: Self.secret, request: r, bucketFromHost: "awsexamplebucket1")
    }

    @Test func presignedQuery() throws {
        let r = SignableRequest(
            method: "GET", rawPath: "/photos/puppy.jpg",
            rawQuery:
                "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
            headers: [("host", "johnsmith.s3.amazonaws.com")])
        let parsed = try SigV2.parse(r, now: Date(timeIntervalSince1970: 1_175_139_000))
        _ = try SigV2.verify(parsed, secret: Self.secret, request: r, bucketFromHost: "johnsmith")
        #expect(throws: SignatureError.self) {
            _ = try SigV2.parse(r, now: Date(timeIntervalSince1970: 1_175_139_621))
        }
    }
}
