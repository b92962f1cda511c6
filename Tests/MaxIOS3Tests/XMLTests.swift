import Testing

@testable import MaxIOS3

@Suite struct XMLTests {
    @Test func parsesDeleteDocument() throws {
        let doc = try XMLParser.parse(
            Array(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                  <Quiet>true</Quiet>
                  <!-- comment -->
                  <Object><Key>a&amp;b&lt;c&gt;&quot;&apos;&#233;&#x1F600;</Key></Object>
                  <Object><Key><![CDATA[x<y]]></Key><VersionId>null</VersionId></Object>
                  <Object><Key/></Object>
                </Delete>
                """.utf8))
        #expect(doc.name == "Delete")
        #expect(doc.child("Quiet")?.text == "true")
        let keys = doc.all("Object").map { $0.child("Key")?.text }
        #expect(keys == ["a&b<c>\"'é😀", "x<y", ""])
    }

    @Test func stripsNamespacePrefixes() throws {
        let doc = try XMLParser.parse(
            Array(
                "<s3:CreateBucketConfiguration xmlns:s3=\"x\"><s3:LocationConstraint>eu</s3:LocationConstraint></s3:CreateBucketConfiguration>"
                    .utf8))
        #expect(doc.name == "CreateBucketConfiguration")
        #expect(doc.child("LocationConstraint")?.text == "eu")
    }

    @Test(arguments: [
        "", "<a>", "<a></b>", "<a><b></a></b>", "text", "<a>&bogus;</a>", "<a></a><b></b>", "<a x=1></a>",
        "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "<a>&#xFFFFFFFF;</a>",
    ])
    func rejectsMalformed(_ text: String) {
        #expect(throws: XMLParseError.self) { _ = try XMLParser.parse(Array(text.utf8)) }
    }

    @Test func rejectsDeepNesting() {
        let text = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect(throws: XMLParseError.self) { _ = try XMLParser.parse(Array(text.utf8)) }
    }

    @Test func writerEscapes() {
        var w = XMLWriter()
        w.open("R")
        w.element("Key", "a<b>&\"c'\u{1}")
        w.close("R")
        let out = w.finish()
        #expect(
            out.hasSuffix(
                "<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Key>a&lt;b&gt;&amp;&quot;c&apos;&#x1;</Key></R>")
        )
        let parsed = try? XMLParser.parse(Array(out.utf8))
        #expect(parsed?.child("Key")?.text == "a<b>&\"c'\u{1}")
    }

    @Test func errorDocument() throws {
        let e = S3Error(.NoSuchKey, extra: [("Key", "k&")])
        let doc = try XMLParser.parse(Array(e.xml(resource: "/b/k&", requestID: "RID").utf8))
        #expect(doc.name == "Error")
        #expect(doc.child("Code")?.text == "NoSuchKey")
        #expect(doc.child("Message")?.text == "The specified key does not exist.")
        #expect(doc.child("Key")?.text == "k&")
        #expect(doc.child("Resource")?.text == "/b/k&")
        #expect(doc.child("RequestId")?.text == "RID")
        #expect(S3ErrorCode.NoSuchKey.status == 404)
        #expect(S3ErrorCode.NotImplemented.status == 501)
        #expect(S3ErrorCode.SignatureDoesNotMatch.status == 403)
        #expect(S3ErrorCode.InvalidRange.status == 416)
    }
}
