import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOS3
import MaxIOStorage

/// The lifecycle configuration XML, read and written as AWS defines it.
enum LifecycleXML {
    static func positive(_ node: XMLNode?, _ what: String) throws -> Int? {
        guard let node else { return nil }
        guard let v = Int(node.text.trimmingSpaces()), v > 0 else {
            throw S3Error(.InvalidArgument, "'\(what)' must be a positive integer")
        }
        return v
    }

    static func size(_ node: XMLNode?) throws -> Int64? {
        guard let node else { return nil }
        guard let v = Int64(node.text.trimmingSpaces()), v >= 0 else { throw S3Error(.MalformedXML) }
        return v
    }

    static func tag(_ node: XMLNode) throws -> Tag {
        guard let k = node.child("Key")?.text, let v = node.child("Value")?.text else { throw S3Error(.MalformedXML) }
        return Tag(key: k, value: v)
    }

    static func parse(_ doc: XMLNode) throws -> [LifecycleRule] {
        guard doc.name == "LifecycleConfiguration" else { throw S3Error(.MalformedXML) }
        let ruleNodes = doc.all("Rule")
        guard !ruleNodes.isEmpty, ruleNodes.count <= 1000 else { throw S3Error(.MalformedXML) }
        var rules: [LifecycleRule] = []
        var ids = Set<String>()
        for node in ruleNodes {
            // As AWS: a rule without an ID gets a generated one.
            let givenID = node.child("ID")?.text
            var rule = LifecycleRule(
                id: givenID.flatMap { $0.isEmpty ? nil : $0 } ?? randomHexID(bytes: 16), enabled: false)
            if let id = rule.id {
                guard id.count <= 255 else {
                    throw S3Error(.InvalidArgument, "ID length should not exceed allowed limit of 255")
                }
                guard ids.insert(id).inserted else {
                    throw S3Error(.InvalidArgument, "Rule ID must be unique. Found same ID for more than one rule")
                }
            }
            switch node.child("Status")?.text.trimmingSpaces() {
            case "Enabled"?: rule.enabled = true
            case "Disabled"?: rule.enabled = false
            default: throw S3Error(.MalformedXML)
            }
            // The filter: <Filter> with one of Prefix, Tag, And, ObjectSize*; or the legacy <Prefix> in the rule.
            if let filter = node.child("Filter") {
                let known: Set<String> = ["Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan"]
                guard node.child("Prefix") == nil, filter.children.count <= 1,
                    filter.children.allSatisfy({ known.contains($0.name) })
                else { throw S3Error(.MalformedXML) }
                if let and = filter.child("And"),
                    !and.children.allSatisfy({ known.contains($0.name) && $0.name != "And" })
                {
                    throw S3Error(.MalformedXML)
                }
                if let and = filter.child("And") {
                    rule.prefix = and.child("Prefix")?.text ?? ""
                    rule.tags = try and.all("Tag").map(tag)
                    rule.sizeGreaterThan = try size(and.child("ObjectSizeGreaterThan"))
                    rule.sizeLessThan = try size(and.child("ObjectSizeLessThan"))
                } else {
                    rule.prefix = filter.child("Prefix")?.text ?? ""
                    rule.tags = try filter.child("Tag").map { [try tag($0)] } ?? []
                    rule.sizeGreaterThan = try size(filter.child("ObjectSizeGreaterThan"))
                    rule.sizeLessThan = try size(filter.child("ObjectSizeLessThan"))
                }
                try TagRules.validate(rule.tags, max: TagRules.maxObjectTags, objectTags: true)
            } else if let p = node.child("Prefix") {
                rule.prefix = p.text
                rule.legacyPrefix = true
            } else {
                // As AWS: a rule names its objects, with a Filter (empty for all) or the legacy Prefix.
                throw S3Error(.MalformedXML)
            }
            if let gt = rule.sizeGreaterThan, let lt = rule.sizeLessThan, gt >= lt {
                throw S3Error(.InvalidArgument, "ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
            }
            if let e = node.child("Expiration") {
                rule.expirationDays = try positive(e.child("Days"), "Days")
                if let d = e.child("Date") {
                    guard let date = WireDate.parseISO8601(d.text.trimmingSpaces()) else {
                        throw S3Error(.MalformedXML)
                    }
                    guard Int(date.timeIntervalSince1970) % 86400 == 0 else {
                        throw S3Error(.InvalidArgument, "'Date' must be at midnight GMT")
                    }
                    rule.expirationDate = date
                }
                if let m = e.child("ExpiredObjectDeleteMarker") {
                    switch m.text.trimmingSpaces() {
                    case "true": rule.expiredObjectDeleteMarker = true
                    case "false": break
                    default: throw S3Error(.MalformedXML)
                    }
                }
                let given = [
                    rule.expirationDays != nil, rule.expirationDate != nil, e.child("ExpiredObjectDeleteMarker") != nil,
                ]
                guard given.filter({ $0 }).count == 1 else { throw S3Error(.MalformedXML) }
                if rule.expiredObjectDeleteMarker && !rule.tags.isEmpty {
                    throw S3Error(.InvalidRequest, "ExpiredObjectDeleteMarker cannot be specified with tags.")
                }
            }
            if let n = node.child("NoncurrentVersionExpiration") {
                rule.noncurrentDays = try positive(n.child("NoncurrentDays"), "NoncurrentDays")
                if let newer = n.child("NewerNoncurrentVersions") {
                    guard let v = Int(newer.text.trimmingSpaces()), (1...100).contains(v) else {
                        throw S3Error(.InvalidArgument, "NewerNoncurrentVersions must be a positive integer up to 100")
                    }
                    rule.newerNoncurrentVersions = v
                }
                guard rule.noncurrentDays != nil else { throw S3Error(.MalformedXML) }
            }
            if let a = node.child("AbortIncompleteMultipartUpload") {
                guard let days = try positive(a.child("DaysAfterInitiation"), "DaysAfterInitiation") else {
                    throw S3Error(.MalformedXML)
                }
                guard rule.tags.isEmpty, rule.sizeGreaterThan == nil, rule.sizeLessThan == nil else {
                    throw S3Error(
                        .InvalidRequest,
                        "AbortIncompleteMultipartUpload cannot be specified with Tags or object size filters.")
                }
                rule.abortIncompleteDays = days
            }
            if node.child("Transition") != nil || node.child("NoncurrentVersionTransition") != nil {
                throw S3Error(
                    .NotImplemented,
                    "Transitions need a second storage tier, and this server has only one (STANDARD); the configuration was not stored."
                )
            }
            guard
                rule.expirationDays != nil || rule.expirationDate != nil || rule.expiredObjectDeleteMarker
                    || rule.noncurrentDays != nil || rule.abortIncompleteDays != nil
            else {
                throw S3Error(.InvalidRequest, "At least one action needs to be specified in a rule")
            }
            rules.append(rule)
        }
        return rules
    }

    static func render(_ rules: [LifecycleRule]) -> String {
        var w = XMLWriter(capacity: 256 + rules.count * 256)
        w.open("LifecycleConfiguration")
        for r in rules {
            w.open("Rule", namespace: nil)
            if let id = r.id { w.element("ID", id) }
            if r.legacyPrefix {
                w.element("Prefix", r.prefix)
            } else {
                w.open("Filter", namespace: nil)
                let conditions =
                    (r.prefix.isEmpty ? 0 : 1) + r.tags.count + (r.sizeGreaterThan == nil ? 0 : 1)
                    + (r.sizeLessThan == nil ? 0 : 1)
                if conditions > 1 { w.open("And", namespace: nil) }
                if !r.prefix.isEmpty || conditions == 0 { w.element("Prefix", r.prefix) }
                for t in r.tags {
                    w.open("Tag", namespace: nil)
                    w.element("Key", t.key)
                    w.element("Value", t.value)
                    w.close("Tag")
                }
                if let gt = r.sizeGreaterThan { w.element("ObjectSizeGreaterThan", gt) }
                if let lt = r.sizeLessThan { w.element("ObjectSizeLessThan", lt) }
                if conditions > 1 { w.close("And") }
                w.close("Filter")
            }
            w.element("Status", r.enabled ? "Enabled" : "Disabled")
            if r.expirationDays != nil || r.expirationDate != nil || r.expiredObjectDeleteMarker {
                w.open("Expiration", namespace: nil)
                if let d = r.expirationDays { w.element("Days", d) }
                if let d = r.expirationDate { w.element("Date", WireDate.iso8601(d)) }
                if r.expiredObjectDeleteMarker { w.element("ExpiredObjectDeleteMarker", true) }
                w.close("Expiration")
            }
            if let d = r.noncurrentDays {
                w.open("NoncurrentVersionExpiration", namespace: nil)
                w.element("NoncurrentDays", d)
                if let n = r.newerNoncurrentVersions { w.element("NewerNoncurrentVersions", n) }
                w.close("NoncurrentVersionExpiration")
            }
            if let d = r.abortIncompleteDays {
                w.open("AbortIncompleteMultipartUpload", namespace: nil)
                w.element("DaysAfterInitiation", d)
                w.close("AbortIncompleteMultipartUpload")
            }
            w.close("Rule")
        }
        w.close("LifecycleConfiguration")
        return w.finish()
    }
}

extension HTTPField.Name {
    static let amzExpiration = HTTPField.Name("x-amz-expiration")!
}

extension S3API {
    /// `x-amz-expiration` for the latest version of an object, when a lifecycle rule will expire it.
    func addExpirationHeader(_ headers: inout HTTPFields, _ record: ObjectRecord) async {
        var rules = lifecycleCache.rules(for: record.bucket)
        if rules == nil {
            guard let b = try? await metadata.bucket(record.bucket) else { return }
            lifecycleCache.set(b.lifecycle, for: record.bucket)
            rules = b.lifecycle ?? []
        }
        guard let rules, !rules.isEmpty,
            let (date, id) = LifecycleCache.expiration(of: record, rules: rules, dayLength: config.lifecycleDay)
        else { return }
        headers[.amzExpiration] = "expiry-date=\"\(WireDate.http(date))\", rule-id=\"\(id)\""
    }

    func getBucketLifecycleConfiguration(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let rules = b.lifecycle, !rules.isEmpty else {
            throw S3Error(
                .NoSuchLifecycleConfiguration, "The lifecycle configuration does not exist",
                extra: [("BucketName", b.name)])
        }
        return xmlResponse(LifecycleXML.render(rules))
    }

    func putBucketLifecycleConfiguration(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let doc = try await readXMLBody(call, limit: 1 << 20, required: true, verifyIntegrity: true) else {
            throw S3Error(.MalformedXML)
        }
        let rules = try LifecycleXML.parse(doc)
        try await metadata.setLifecycle(bucket: bucket, rules: rules)
        lifecycleCache.set(rules, for: bucket)
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    func deleteBucketLifecycle(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        try await metadata.setLifecycle(bucket: bucket, rules: nil)
        lifecycleCache.set(nil, for: bucket)
        return Response(status: .noContent)
    }
}
