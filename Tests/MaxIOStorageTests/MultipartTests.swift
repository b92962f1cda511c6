import Crypto
import Foundation
import MaxIOCore
import NIOCore
import Testing

@testable import MaxIOSQLite
@testable import MaxIOStorage

/// Multipart uploads through `ObjectService` on the real SQLite catalog and file blob store.
@Suite struct MultipartTests {
    static let minPart = Int(MultipartLimits.minPartSize)

    func part(
        _ f: Fixture, _ upload: UploadRecord, _ number: Int, _ bytes: [UInt8], checksum: ChecksumAlgorithm? = nil
    ) async throws -> UploadedPart {
        let req = PartUpload(
            bucket: upload.bucket, key: upload.key, uploadID: upload.uploadID, partNumber: number,
            declaredSize: Int64(bytes.count), checksum: checksum)
        return try await f.service.uploadPart(req, upload: upload, body: Buffers([ByteBuffer(bytes: bytes)]))
    }

    func readAll(_ f: Fixture, _ key: String) async throws -> [UInt8] {
        let o = try await f.service.open(bucket: "bucket", key: key)
        var out: [UInt8] = []
        for try await b in BlobByteSequence(reader: o.reader, range: 0..<o.reader.size, chunk: 1 << 20) {
            out += Array(b.readableBytesView)
        }
        await o.reader.close()
        return out
    }

    @Test func completeConcatenatesPartsWithoutCopying() async throws {
        let f = try Fixture()
        try await f.bucket()
        let u = try await f.service.createUpload(
            bucket: "bucket", key: "k", owner: "o", meta: ObjectMeta(contentType: "text/x"), checksum: nil,
            checksumType: nil)
        let a = (0..<Self.minPart).map { UInt8(truncatingIfNeeded: $0) }
        let b: [UInt8] = Array("tail".utf8)
        let p1 = try await part(f, u, 1, a)
        let p2 = try await part(f, u, 2, b)
        let filesBefore = f.blobFiles().count
        let done = try await f.service.completeUpload(
            bucket: "bucket", key: "k", uploadID: u.uploadID,
            parts: [
                CompletedPart(partNumber: 1, etag: p1.part.etag),
                CompletedPart(partNumber: 2, etag: p2.part.etag),
            ], condition: nil, expected: CompletionExpectations())
        // No new blob: the object is the list of part blobs.
        #expect(f.blobFiles().count == filesBefore)
        let md5s = Hex.decode(p1.part.etag)! + Hex.decode(p2.part.etag)!
        #expect(done.record.etag == Hex.encode(Insecure.MD5.hash(data: md5s)) + "-2")
        #expect(done.record.parts == 2)
        #expect(done.record.size == Int64(a.count + b.count))
        #expect(try await readAll(f, "k") == a + b)
        let (_, parts) = try await f.service.headWithParts(bucket: "bucket", key: "k")
        #expect(parts.map(\.offset) == [0, Int64(a.count)])
        // The upload is gone; a retried completion answers the same object.
        await #expect(throws: StorageError.noSuchUpload) {
            _ = try await f.metadata.listParts(uploadID: u.uploadID, bucket: "bucket", key: "k", after: 0, limit: 10)
        }
        let again = try await f.service.completeUpload(
            bucket: "bucket", key: "k", uploadID: u.uploadID,
            parts: [CompletedPart(partNumber: 1, etag: p1.part.etag)], condition: nil,
            expected: CompletionExpectations())
        #expect(again.alreadyCompleted && again.record.etag == done.record.etag)
    }

    @Test func completionRulesAndUnusedParts() async throws {
        let f = try Fixture()
        try await f.bucket()
        let u = try await f.service.createUpload(
            bucket: "bucket", key: "k", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil)
        let p1 = try await part(f, u, 1, [1, 2, 3])
        let p2 = try await part(f, u, 2, [4])
        let p3 = try await part(f, u, 3, [5])
        func complete(_ parts: [CompletedPart]) async throws {
            _ = try await f.service.completeUpload(
                bucket: "bucket", key: "k", uploadID: u.uploadID, parts: parts, condition: nil,
                expected: CompletionExpectations())
        }
        let c1 = CompletedPart(partNumber: 1, etag: p1.part.etag)
        let c2 = CompletedPart(partNumber: 2, etag: p2.part.etag)
        let c3 = CompletedPart(partNumber: 3, etag: p3.part.etag)
        await #expect(throws: StorageError.entityTooSmall(partNumber: 1, size: 3)) { try await complete([c1, c2]) }
        await #expect(throws: StorageError.invalidPartOrder) { try await complete([c2, c1]) }
        await #expect(throws: StorageError.invalidPart(partNumber: 4)) {
            try await complete([CompletedPart(partNumber: 4, etag: p1.part.etag)])
        }
        await #expect(throws: StorageError.invalidPart(partNumber: 1)) {
            try await complete([CompletedPart(partNumber: 1, etag: p2.part.etag)])
        }
        // Failed completions leave the upload as it was; a single small last part completes; unused parts go.
        #expect(f.blobFiles().count == 3)
        try await complete([c3])
        #expect(f.blobFiles().count == 1)
        #expect(try await readAll(f, "k") == [5])
        _ = c1
    }

    @Test func replacingAPartRetiresTheOldBlobAndLatePartsFail() async throws {
        let f = try Fixture()
        try await f.bucket()
        let u = try await f.service.createUpload(
            bucket: "bucket", key: "k", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil)
        _ = try await part(f, u, 1, [1])
        let second = try await part(f, u, 1, [2, 2])
        #expect(f.blobFiles().count == 1)
        let (_, parts) = try await f.metadata.listParts(
            uploadID: u.uploadID, bucket: "bucket", key: "k", after: 0, limit: 10)
        #expect(parts.map(\.etag) == [second.part.etag])
        try await f.service.abortUpload(bucket: "bucket", key: "k", uploadID: u.uploadID)
        #expect(f.blobFiles().isEmpty)
        // A part arriving after the abort is refused and leaves nothing behind.
        await #expect(throws: StorageError.noSuchUpload) { _ = try await part(f, u, 2, [3]) }
        #expect(f.blobFiles().isEmpty)
        #expect(try f.tmpFiles().isEmpty)
    }

    @Test func overwriteWhileReadingKeepsPartsUntilTheReaderCloses() async throws {
        let f = try Fixture()
        try await f.bucket()
        let u = try await f.service.createUpload(
            bucket: "bucket", key: "k", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil)
        let a = [UInt8](repeating: 7, count: Self.minPart)
        let p1 = try await part(f, u, 1, a)
        let p2 = try await part(f, u, 2, [9, 9])
        _ = try await f.service.completeUpload(
            bucket: "bucket", key: "k", uploadID: u.uploadID,
            parts: [
                CompletedPart(partNumber: 1, etag: p1.part.etag),
                CompletedPart(partNumber: 2, etag: p2.part.etag),
            ], condition: nil, expected: CompletionExpectations())
        let reader = try await f.service.open(bucket: "bucket", key: "k").reader
        try await f.put("k", "new")
        // Both part blobs are still there (the second not even opened yet), the new blob too.
        #expect(f.blobFiles().count == 3)
        let tail = try await reader.read(offset: Int64(a.count), length: 2)
        #expect(Array(tail.readableBytesView) == [9, 9])
        await reader.close()
        #expect(f.blobFiles().count == 1)
        #expect(f.service.leases.leasedCount == 0)
        // Deleting a multipart object retires its parts at once when nobody reads it.
        let u2 = try await f.service.createUpload(
            bucket: "bucket", key: "m", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil)
        let q = try await part(f, u2, 1, [1])
        _ = try await f.service.completeUpload(
            bucket: "bucket", key: "m", uploadID: u2.uploadID,
            parts: [CompletedPart(partNumber: 1, etag: q.part.etag)], condition: nil,
            expected: CompletionExpectations())
        #expect(f.blobFiles().count == 2)
        try await f.service.delete(bucket: "bucket", key: "m")
        #expect(f.blobFiles().count == 1)
        let referenced = try await f.metadata.referencedBlobIDs()
        #expect(referenced.count == 1)
    }

    @Test(arguments: [ChecksumAlgorithm.CRC32, .CRC32C, .CRC64NVME])
    func fullObjectChecksumIsTheChecksumOfTheWhole(_ algorithm: ChecksumAlgorithm) async throws {
        let f = try Fixture()
        try await f.bucket()
        let u = try await f.service.createUpload(
            bucket: "bucket", key: "k", owner: "o", meta: ObjectMeta(), checksum: algorithm, checksumType: .FULL_OBJECT)
        let a = (0..<Self.minPart).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let b = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let p1 = try await part(f, u, 1, a)
        let p2 = try await part(f, u, 2, b)
        let done = try await f.service.completeUpload(
            bucket: "bucket", key: "k", uploadID: u.uploadID,
            parts: [
                CompletedPart(partNumber: 1, etag: p1.part.etag),
                CompletedPart(partNumber: 2, etag: p2.part.etag),
            ], condition: nil, expected: CompletionExpectations())
        var whole = ChecksumHasher(algorithm)
        whole.update(a + b)
        #expect(done.record.meta.checksums == [algorithm.rawValue: whole.base64()])
        #expect(done.record.meta.checksumType == "FULL_OBJECT")
    }

    @Test func compositeChecksumNeedsEveryPartChecksum() async throws {
        let f = try Fixture()
        try await f.bucket()
        let u = try await f.service.createUpload(
            bucket: "bucket", key: "k", owner: "o", meta: ObjectMeta(), checksum: .SHA256, checksumType: nil)
        #expect(u.checksumType == .COMPOSITE)
        let p1 = try await part(f, u, 1, [1, 2, 3])
        guard let sum = p1.checksum?.1 else {
            Issue.record("no part checksum")
            return
        }
        await #expect(throws: StorageError.self) {
            _ = try await f.service.completeUpload(
                bucket: "bucket", key: "k", uploadID: u.uploadID,
                parts: [CompletedPart(partNumber: 1, etag: p1.part.etag)], condition: nil,
                expected: CompletionExpectations())
        }
        let done = try await f.service.completeUpload(
            bucket: "bucket", key: "k", uploadID: u.uploadID,
            parts: [CompletedPart(partNumber: 1, etag: p1.part.etag, checksums: [.SHA256: sum])], condition: nil,
            expected: CompletionExpectations())
        var h = ChecksumHasher(.SHA256)
        h.update(Array(Data(base64Encoded: sum)!))
        #expect(done.record.meta.checksums == ["SHA256": h.base64() + "-1"])
    }

    @Test func listUploadsOrdersByKeyThenInitiationAndPaginates() async throws {
        let f = try Fixture()
        try await f.bucket()
        var ids: [String] = []
        for (i, key) in ["b", "a", "a", "dir/x", "dir/y", "c"].enumerated() {
            let u = try await f.service.createUpload(
                bucket: "bucket", key: key, owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil,
                now: Date(timeIntervalSince1970: 1_000_000 + Double(i)))
            ids.append(u.uploadID)
        }
        func list(_ q: UploadsQuery) async throws -> UploadsPage {
            try await f.metadata.listUploads(bucket: "bucket", query: q)
        }
        let all = try await list(
            UploadsQuery(prefix: "", delimiter: nil, keyMarker: nil, uploadIDMarker: nil, maxUploads: 100))
        #expect(all.uploads.map(\.key) == ["a", "a", "b", "c", "dir/x", "dir/y"])
        #expect(all.uploads.prefix(2).map(\.uploadID) == [ids[1], ids[2]])
        let first = try await list(
            UploadsQuery(prefix: "", delimiter: nil, keyMarker: nil, uploadIDMarker: nil, maxUploads: 1))
        #expect(first.isTruncated && first.nextKeyMarker == "a" && first.nextUploadIDMarker == ids[1])
        let next = try await list(
            UploadsQuery(prefix: "", delimiter: nil, keyMarker: "a", uploadIDMarker: ids[1], maxUploads: 2))
        #expect(next.uploads.map(\.uploadID) == [ids[2], ids[0]])
        let grouped = try await list(
            UploadsQuery(prefix: "", delimiter: "/", keyMarker: nil, uploadIDMarker: nil, maxUploads: 100))
        #expect(grouped.commonPrefixes == ["dir/"] && grouped.uploads.map(\.key) == ["a", "a", "b", "c"])
        let afterPrefix = try await list(
            UploadsQuery(prefix: "", delimiter: "/", keyMarker: "dir/", uploadIDMarker: nil, maxUploads: 100))
        #expect(afterPrefix.commonPrefixes.isEmpty && afterPrefix.uploads.isEmpty)
        // Deleting the bucket takes its uploads with it.
        try await f.service.deleteBucket("bucket")
        #expect(try await f.metadata.staleUploads(before: Date(), limit: 10, bucket: nil).isEmpty)
    }

    @Test func abandonedUploadsAreAborted() async throws {
        let f = try Fixture()
        try await f.bucket()
        let old = try await f.service.createUpload(
            bucket: "bucket", key: "old", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil,
            now: Date(timeIntervalSinceNow: -10 * 86400))
        _ = try await part(f, old, 1, [1])
        let fresh = try await f.service.createUpload(
            bucket: "bucket", key: "new", owner: "o", meta: ObjectMeta(), checksum: nil, checksumType: nil)
        _ = try await part(f, fresh, 1, [2])
        let aborted = try await f.service.abortStaleUploads(before: Date(timeIntervalSinceNow: -86400))
        #expect(aborted.map(\.uploadID) == [old.uploadID])
        #expect(f.blobFiles().count == 1)
    }
}

/// The size rules by arithmetic on part records (no data written).
@Suite struct MultipartSizeRuleTests {
    func upload() -> UploadRecord {
        UploadRecord(
            uploadID: UploadRecord.newID(), bucket: "b", key: "k", initiated: Date(), owner: "o", meta: ObjectMeta(),
            checksumAlgorithm: nil, checksumType: nil)
    }

    func parts(_ sizes: [Int64]) -> ([PartRecord], [CompletedPart]) {
        let etag = String(repeating: "ab", count: 16)
        let records = sizes.enumerated().map {
            PartRecord(
                partNumber: $0.offset + 1, size: $0.element, etag: etag, lastModified: Date(), blobID: "b\($0.offset)",
                checksum: nil)
        }
        return (records, records.map { CompletedPart(partNumber: $0.partNumber, etag: etag) })
    }

    @Test func fiveTebibytesIsTheLargestObject() throws {
        let gib: Int64 = 1 << 30
        // 1024 parts of 5 GiB: exactly 5 TiB.
        let (ok, okReq) = parts(Array(repeating: 5 * gib, count: 1024))
        let (record, manifest) = try ObjectService.assemble(
            upload(), uploaded: ok, requested: okReq, expected: CompletionExpectations(), now: Date())
        #expect(record.size == MultipartLimits.maxObjectSize)
        #expect(record.parts == 1024 && manifest.last?.offset == 1023 * 5 * gib)
        #expect(record.etag.hasSuffix("-1024"))
        let (over, overReq) = parts(Array(repeating: 5 * gib, count: 1024) + [1])
        #expect(throws: StorageError.entityTooLarge) {
            _ = try ObjectService.assemble(
                upload(), uploaded: over, requested: overReq, expected: CompletionExpectations(), now: Date())
        }
    }

    @Test func tenThousandPartsAssembleQuickly() throws {
        let (uploaded, requested) = parts(Array(repeating: MultipartLimits.minPartSize, count: 10_000))
        let (record, manifest) = try ObjectService.assemble(
            upload(), uploaded: uploaded, requested: requested, expected: CompletionExpectations(), now: Date())
        #expect(record.parts == 10_000 && manifest.count == 10_000)
        #expect(record.size == 10_000 * MultipartLimits.minPartSize)
    }
}

@Suite struct ChecksumCombineTests {
    @Test(arguments: [ChecksumAlgorithm.CRC32, .CRC32C, .CRC64NVME])
    func combineMatchesTheChecksumOfTheConcatenation(_ algorithm: ChecksumAlgorithm) {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        for cuts in [[0, 10_000], [1, 9_999], [4096, 5000, 999], [10_000]] {
            var pieces: [(digest: [UInt8], length: Int64)] = []
            var start = 0
            for n in cuts where start + n <= data.count {
                var h = ChecksumHasher(algorithm)
                h.update(Array(data[start..<(start + n)]))
                pieces.append((h.finalize(), Int64(n)))
                start += n
            }
            var whole = ChecksumHasher(algorithm)
            whole.update(Array(data[0..<start]))
            #expect(algorithm.combine(pieces) == whole.finalize(), "cuts \(cuts)")
        }
        #expect(ChecksumAlgorithm.SHA256.combine([]) == nil)
    }

    /// The published check values ("123456789") of the three CRCs.
    @Test func checkValues() {
        let input = Array("123456789".utf8)
        let expected: [(ChecksumAlgorithm, String)] = [
            (.CRC32, "cbf43926"), (.CRC32C, "e3069283"), (.CRC64NVME, "ae8b14860a799888"),
        ]
        for (a, hex) in expected {
            var h = ChecksumHasher(a)
            h.update(input)
            #expect(Hex.encode(h.finalize()) == hex)
        }
    }
}
