import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOS3
import MaxIOStorage

extension HTTPField.Name {
    static let amzTagging = HTTPField.Name("x-amz-tagging")!
    static let amzTaggingCount = HTTPField.Name("x-amz-tagging-count")!
    static let amzTaggingDirective = HTTPField.Name("x-amz-tagging-directive")!
}

/// AWS's tag rules: keys of 1-128 and values of 0-256 Unicode characters made of letters, digits, spaces and
/// `+ - = . _ : / @`; unique keys; no `aws:` prefix; at most 10 tags per object, 50 per bucket.
enum TagRules {
    static let maxObjectTags = 10
    static let maxBucketTags = 50
    static let allowedPunctuation: Set<Unicode.Scalar> = ["+", "-", "=", ".", "_", ":", "/", "@"]

    /// AWS's pattern `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`: letters, separators, numbers and a few marks.
    static func allowed(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy {
            switch $0.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                .spaceSeparator, .lineSeparator, .paragraphSeparator, .decimalNumber, .letterNumber, .otherNumber:
                return true
            default:
                return allowedPunctuation.contains($0)
            }
        }
    }

    static func validate(_ tags: [Tag], max: Int, objectTags: Bool) throws {
        if tags.count > max {
            throw S3Error(
                .InvalidTag,
                objectTags ? "Object tags cannot be greater than 10" : "Bucket tag count cannot be greater than 50")
        }
        var seen = Set<String>()
        for t in tags {
            let keyLength = t.key.unicodeScalars.count
            guard keyLength > 0, allowed(t.key) else {
                throw S3Error(.InvalidTag, "The TagKey you have provided is invalid", extra: [("TagKey", t.key)])
            }
            guard keyLength <= 128 else {
                throw S3Error(
                    .InvalidTag, "The TagKey you have provided is too long, max 128", extra: [("TagKey", t.key)])
            }
            guard allowed(t.value) else {
                throw S3Error(.InvalidTag, "The TagValue you have provided is invalid", extra: [("TagKey", t.key)])
            }
            guard t.value.unicodeScalars.count <= 256 else {
                throw S3Error(
                    .InvalidTag, "The TagValue you have provided is too long, max 256", extra: [("TagKey", t.key)])
            }
            if t.key.lowercased().hasPrefix("aws:") {
                throw S3Error(.InvalidTag, "Your TagKey cannot be prefixed with aws:", extra: [("TagKey", t.key)])
            }
            guard seen.insert(t.key).inserted else {
                throw S3Error(.InvalidTag, "Cannot provide multiple Tags with the same key", extra: [("TagKey", t.key)])
            }
        }
    }

    /// `x-amz-tagging: k1=v1&k2=v2` (URL-encoded, as a query string).
    static func parseHeader(_ header: String) throws -> [Tag] {
        var tags: [Tag] = []
        for pair in header.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = PercentEncoding.decode(kv[0], plusAsSpace: true),
                let v = PercentEncoding.decode(kv.count > 1 ? kv[1] : "", plusAsSpace: true)
            else {
                throw S3Error(
                    .InvalidArgument,
                    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."
                )
            }
            tags.append(Tag(key: k, value: v))
        }
        try validate(tags, max: maxObjectTags, objectTags: true)
        return tags
    }

    /// `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`.
    static func parseXML(_ doc: XMLNode, max: Int, objectTags: Bool) throws -> [Tag] {
        guard doc.name == "Tagging", let set = doc.child("TagSet") else { throw S3Error(.MalformedXML) }
        var tags: [Tag] = []
        for t in set.all("Tag") {
            guard let k = t.child("Key")?.text, let v = t.child("Value")?.text else { throw S3Error(.MalformedXML) }
            tags.append(Tag(key: k, value: v))
        }
        try validate(tags, max: max, objectTags: objectTags)
        return tags
    }

    static func xml(_ tags: [Tag]) -> String {
        var w = XMLWriter(capacity: 128 + tags.count * 64)
        w.open("Tagging")
        w.open("TagSet", namespace: nil)
        for t in tags {
            w.open("Tag", namespace: nil)
            w.element("Key", t.key)
            w.element("Value", t.value)
            w.close("Tag")
        }
        w.close("TagSet")
        w.close("Tagging")
        return w.finish()
    }
}

extension S3API {
    // MARK: object tagging

    func getObjectTagging(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let record = try await objects.head(bucket: bucket, key: key, versionID: try versionParam(call))
        var response = xmlResponse(TagRules.xml(record.meta.tags))
        addVersionHeader(&response.headers, record.versionID)
        return response
    }

    func putObjectTagging(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let versionID = try versionParam(call)
        guard let doc = try await readXMLBody(call, limit: 64 << 10, required: true) else {
            throw S3Error(.MalformedXML)
        }
        let tags = try TagRules.parseXML(doc, max: TagRules.maxObjectTags, objectTags: true)
        let record = try await metadata.updateObject(bucket: bucket, key: key, versionID: versionID) { meta, _ in
            meta.tags = tags
        }
        var headers = HTTPFields()
        addVersionHeader(&headers, record.versionID)
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }

    func deleteObjectTagging(_ call: S3Call) async throws -> Response {
        let (bucket, key) = try requireKey(call)
        let record = try await metadata.updateObject(bucket: bucket, key: key, versionID: try versionParam(call)) {
            meta, _ in meta.tags = []
        }
        var headers = HTTPFields()
        addVersionHeader(&headers, record.versionID)
        return Response(status: .noContent, headers: headers)
    }

    // MARK: bucket tagging

    func getBucketTagging(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let tags = b.tags, !tags.isEmpty else {
            throw S3Error(.NoSuchTagSet, nil, extra: [("BucketName", b.name)])
        }
        return xmlResponse(TagRules.xml(tags))
    }

    func putBucketTagging(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let doc = try await readXMLBody(call, limit: 64 << 10, required: true) else {
            throw S3Error(.MalformedXML)
        }
        let tags = try TagRules.parseXML(doc, max: TagRules.maxBucketTags, objectTags: false)
        try await metadata.setBucketTags(bucket: bucket, tags: tags)
        return Response(status: .noContent)
    }

    func deleteBucketTagging(_ call: S3Call) async throws -> Response {
        try await metadata.setBucketTags(bucket: try requireBucket(call), tags: nil)
        return Response(status: .noContent)
    }
}
