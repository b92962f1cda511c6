import Crypto
import Foundation
import MaxIOCore
import NIOCore

/// Limits of multipart uploads, as AWS's.
package enum MultipartLimits {
    package static let maxPartNumber = 10_000
    package static let minPartSize: Int64 = 5 * 1024 * 1024
    package static let maxPartSize: Int64 = 5 * 1024 * 1024 * 1024
    package static let maxObjectSize: Int64 = 5 * 1024 * 1024 * 1024 * 1024
}

/// One UploadPart (or UploadPartCopy) besides its body.
package struct PartUpload: Sendable {
    package var bucket: String
    package var key: String
    package var uploadID: String
    package var partNumber: Int
    package var declaredSize: Int64
    package var contentMD5: [UInt8]?
    package var expectedSHA256: [UInt8]?
    /// The checksum algorithm the request names (a header or trailer), if any.
    package var checksum: ChecksumAlgorithm?
    package var expectedChecksum: (@Sendable () -> String?)?
    /// A quota reservation for the part's bytes (see `ObjectService.reserve`).
    package var reservation: String? = nil
    /// The customer key sent with the part (SSE-C uploads need the upload's key on every part).
    package var customerKey: [UInt8]? = nil

    package init(
        bucket: String, key: String, uploadID: String, partNumber: Int, declaredSize: Int64,
        contentMD5: [UInt8]? = nil, expectedSHA256: [UInt8]? = nil, checksum: ChecksumAlgorithm? = nil,
        expectedChecksum: (@Sendable () -> String?)? = nil
    ) {
        self.bucket = bucket
        self.key = key
        self.uploadID = uploadID
        self.partNumber = partNumber
        self.declaredSize = declaredSize
        self.contentMD5 = contentMD5
        self.expectedSHA256 = expectedSHA256
        self.checksum = checksum
        self.expectedChecksum = expectedChecksum
    }
}

/// What a CompleteMultipartUpload request asserts about the object it makes (headers), checked at completion.
package struct CompletionExpectations: Sendable {
    /// `x-amz-checksum-<algorithm>`: the object's checksum.
    package var checksums: [ChecksumAlgorithm: String]
    /// `x-amz-checksum-type`.
    package var checksumType: ChecksumType?
    /// `x-amz-mp-object-size`.
    package var objectSize: Int64?

    package init(
        checksums: [ChecksumAlgorithm: String] = [:], checksumType: ChecksumType? = nil, objectSize: Int64? = nil
    ) {
        self.checksums = checksums
        self.checksumType = checksumType
        self.objectSize = objectSize
    }
}

/// A stored part and the checksum computed for it (in the request's algorithm, for the response).
package struct UploadedPart: Sendable {
    package var part: PartRecord
    package var checksum: (ChecksumAlgorithm, String)?
}

extension ObjectService {
    package func createUpload(
        bucket: String, key: String, owner: String, meta: ObjectMeta, checksum: ChecksumAlgorithm?,
        checksumType: ChecksumType?, now: Date = Date()
    ) async throws -> UploadRecord {
        var meta = meta
        meta.compressed = compression.applies(to: meta.contentType)
        let upload = UploadRecord(
            uploadID: UploadRecord.newID(now: now), bucket: bucket, key: key, initiated: now, owner: owner, meta: meta,
            checksumAlgorithm: checksum,
            checksumType: checksum.map { checksumType ?? ChecksumType.defaultType(for: $0) })
        try await metadata.createUpload(upload)
        return upload
    }

    /// The upload in progress, or `noSuchUpload` (checked before a part's body is read).
    package func upload(id: String, bucket: String, key: String) async throws -> UploadRecord {
        guard let u = try await metadata.upload(id: id, bucket: bucket, key: key) else {
            throw StorageError.noSuchUpload
        }
        return u
    }

    /// Stores a part: streams it to a new blob with its MD5 and, when the upload or the request names one, its
    /// checksum, then records it (replacing a part with the same number, whose blob is retired). A part that
    /// arrives after its upload was completed or aborted is refused and leaves nothing behind.
    package func uploadPart<Body: AsyncSequence>(
        _ req: PartUpload, upload: UploadRecord, body: Body, now: Date = Date()
    ) async throws -> UploadedPart where Body.Element == ByteBuffer {
        if let requested = req.checksum, let expected = upload.checksumAlgorithm, requested != expected {
            await release(req.reservation)
            throw StorageError.invalidRequest(
                "Checksum Type mismatch occurred, expected checksum Type: \(expected.rawValue.lowercased()), actual checksum Type: \(requested.rawValue.lowercased())"
            )
        }
        let algorithm = upload.checksumAlgorithm ?? req.checksum
        let sealing: BlobSealing
        do {
            sealing = try Self.sealing(of: upload.meta, customerKey: req.customerKey)
        } catch {
            await release(req.reservation)
            throw error
        }
        var put = PutRequest(
            bucket: req.bucket, key: req.key, meta: ObjectMeta(), declaredSize: req.declaredSize,
            contentMD5: req.contentMD5, expectedSHA256: req.expectedSHA256, checksum: algorithm,
            expectedChecksum: req.checksum == nil ? nil : req.expectedChecksum)
        put.sealing = sealing
        put.partOfCompressedUpload = upload.meta.compressed
        let blob: (id: String, digests: BlobDigests, meta: ObjectMeta)
        do {
            blob = try await writeBlob(put, body: body)
        } catch {
            await release(req.reservation)
            throw error
        }
        let computed = blob.meta.checksums?.first.flatMap { (k, v) in ChecksumAlgorithm(rawValue: k).map { ($0, v) } }
        let part = PartRecord(
            partNumber: req.partNumber, size: blob.digests.size, etag: Self.etag(blob.digests, sealing),
            lastModified: now,
            blobID: blob.id, checksum: upload.checksumAlgorithm == nil ? nil : computed?.1)
        let replaced: PartRecord?
        do {
            replaced = try await metadata.putPart(
                part, uploadID: req.uploadID, bucket: req.bucket, key: req.key, reservation: req.reservation)
        } catch {
            await blobs.delete(blob.id)
            await release(req.reservation)
            throw error
        }
        if let replaced { await blobs.delete(replaced.blobID) }
        return UploadedPart(part: part, checksum: computed)
    }

    /// Completes an upload from the parts the client names, without copying data: the object is the list of
    /// part blobs. `expectedChecksum` is a whole-object checksum header sent with the request, if any.
    package func completeUpload(
        bucket: String, key: String, uploadID: String, parts requested: [CompletedPart],
        condition: WriteCondition?, expected: CompletionExpectations = CompletionExpectations(), now: Date = Date()
    ) async throws -> CompletionResult {
        let result = try await metadata.completeUpload(
            uploadID: uploadID, bucket: bucket, key: key, condition: condition
        ) { upload, uploaded in
            try Self.assemble(upload, uploaded: uploaded, requested: requested, expected: expected, now: now)
        }
        for r in result.retired { await retire(r) }
        for id in result.unusedBlobs { await blobs.delete(id) }
        return result
    }

    /// Checks the requested parts against the uploaded ones (AWS's rules) and builds the object and its manifest.
    static func assemble(
        _ upload: UploadRecord, uploaded: [PartRecord], requested: [CompletedPart],
        expected: CompletionExpectations, now: Date
    ) throws -> (ObjectRecord, [ObjectPart]) {
        var byNumber: [Int: PartRecord] = [:]
        for p in uploaded { byNumber[p.partNumber] = p }
        var chosen: [PartRecord] = []
        chosen.reserveCapacity(requested.count)
        let algorithm = upload.checksumAlgorithm
        let type = upload.checksumType ?? algorithm.map(ChecksumType.defaultType(for:))
        if let t = expected.checksumType, t != type {
            // As AWS: a checksum type other than the upload's is a digest mismatch.
            throw StorageError.checksumTypeMismatch(upload: type?.rawValue, requested: t.rawValue)
        }
        for (i, r) in requested.enumerated() {
            if i > 0 && r.partNumber <= requested[i - 1].partNumber { throw StorageError.invalidPartOrder }
            // With additional checksums, the parts must be 1, 2, 3... (AWS's CompletedPart rule).
            if algorithm != nil && r.partNumber != i + 1 { throw StorageError.invalidPartOrder }
            guard let p = byNumber[r.partNumber], p.etag == r.etag else {
                throw StorageError.invalidPart(partNumber: r.partNumber)
            }
            if let algorithm {
                if let sent = r.checksums[algorithm] {
                    if sent != p.checksum { throw StorageError.invalidPart(partNumber: r.partNumber) }
                } else if type == .COMPOSITE {
                    throw StorageError.invalidRequest(
                        "The upload was created using a \(algorithm.rawValue.lowercased()) checksum. The complete request must include the checksum for each part. It was missing for part \(r.partNumber) in the request."
                    )
                }
            }
            chosen.append(p)
        }
        var total: Int64 = 0
        for (i, p) in chosen.enumerated() {
            if i < chosen.count - 1 && p.size < MultipartLimits.minPartSize {
                throw StorageError.entityTooSmall(partNumber: p.partNumber, size: p.size)
            }
            total += p.size
        }
        if total > MultipartLimits.maxObjectSize { throw StorageError.entityTooLarge }
        if let size = expected.objectSize, size != total {
            throw StorageError.invalidRequest(
                "The provided 'x-amz-mp-object-size' header value \(size) does not match what was computed: \(total)")
        }
        var md5s: [UInt8] = []
        md5s.reserveCapacity(16 * chosen.count)
        for p in chosen {
            guard let d = Hex.decode(p.etag), d.count == 16 else { throw StorageError.io("part etag \(p.etag)") }
            md5s += d
        }
        let etag = Hex.encode(Insecure.MD5.hash(data: md5s)) + "-\(chosen.count)"
        var meta = upload.meta
        meta.checksums = nil
        meta.checksumType = nil
        if let algorithm, let type {
            var digests: [(digest: [UInt8], length: Int64)] = []
            for p in chosen {
                guard let c = p.checksum, let d = Data(base64Encoded: c), d.count == algorithm.size else {
                    throw StorageError.invalidPart(partNumber: p.partNumber)
                }
                digests.append((Array(d), p.size))
            }
            let value: String
            switch type {
            case .COMPOSITE:
                var h = ChecksumHasher(algorithm)
                for d in digests { h.update(d.digest) }
                value = h.base64() + "-\(chosen.count)"
            case .FULL_OBJECT:
                guard let whole = algorithm.combine(digests) else {
                    throw StorageError.invalidRequest(
                        "The \(algorithm.rawValue) algorithm does not support FULL_OBJECT.")
                }
                value = Data(whole).base64EncodedString()
            }
            // The whole-object value may come with or without the `-N` of a composite checksum.
            if let sent = expected.checksums[algorithm], sent != value, sent + "-\(chosen.count)" != value {
                throw StorageError.checksumMismatch(algorithm)
            }
            meta.checksums = [algorithm.rawValue: value]
            meta.checksumType = type.rawValue
        }
        var offset: Int64 = 0
        var manifest: [ObjectPart] = []
        manifest.reserveCapacity(chosen.count)
        for (i, p) in chosen.enumerated() {
            manifest.append(
                ObjectPart(
                    number: i + 1, offset: offset, size: p.size, blobID: p.blobID, etag: p.etag, checksum: p.checksum))
            offset += p.size
        }
        let record = ObjectRecord(
            bucket: upload.bucket, key: upload.key, size: total, etag: etag, lastModified: now, blobID: upload.uploadID,
            meta: meta, parts: chosen.count)
        return (record, manifest)
    }

    package func abortUpload(bucket: String, key: String, uploadID: String) async throws {
        for id in try await metadata.abortUpload(uploadID: uploadID, bucket: bucket, key: key) {
            await blobs.delete(id)
        }
    }

    /// Aborts uploads initiated before `before` (abandoned uploads); returns how many were removed.
    package func abortStaleUploads(before: Date) async throws -> [UploadRecord] {
        var aborted: [UploadRecord] = []
        while true {
            let batch = try await metadata.staleUploads(before: before, limit: 500, bucket: nil)
            var progressed = false
            for u in batch {
                do {
                    try await abortUpload(bucket: u.bucket, key: u.key, uploadID: u.uploadID)
                    aborted.append(u)
                    progressed = true
                } catch StorageError.noSuchUpload {
                    continue  // completed or aborted meanwhile
                } catch StorageError.noSuchBucket {
                    continue
                }
            }
            if batch.count < 500 || !progressed { break }
        }
        return aborted
    }
}
