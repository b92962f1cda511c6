import CMaxIOCompress
import Foundation
import MaxIOCore
import NIOCore

/// Which new objects are compressed (transparent compression, off by default): by content type.
package struct CompressionPolicy: Sendable, Equatable {
    package var enabled: Bool
    /// Content types (`text/*` matches every `text/` type), compared without parameters, case-insensitive.
    package var types: [String]
    /// zlib level, 1 (fastest) to 9.
    package var level: Int

    package static let defaultTypes = [
        "text/*", "application/json", "application/xml", "application/javascript", "application/x-ndjson",
        "application/yaml", "application/x-yaml", "application/csv", "image/svg+xml",
    ]

    package init(enabled: Bool = false, types: [String] = defaultTypes, level: Int = 1) {
        self.enabled = enabled
        self.types = types.map { $0.lowercased() }
        self.level = level
    }

    package func applies(to contentType: String?) -> Bool {
        guard enabled, let contentType else { return false }
        let type = contentType.split(separator: ";").first.map { $0.trimmingSpaces().lowercased() } ?? ""
        return types.contains { t in
            t.hasSuffix("/*") ? type.hasPrefix(String(t.dropLast())) : type == t
        }
    }
}

/// The compressed form inside a blob (plain or sealed): the data in 64 KiB chunks, each raw deflate (or
/// stored as it is when deflate does not make it smaller), then an index of their stored lengths (4 bytes
/// each, little-endian, the top bit set for a chunk stored as it is) and a 16-byte trailer: `MXZ1`, the
/// chunk count (4 bytes) and the uncompressed size (8 bytes). A range read inflates only its chunks.
enum CompressedLayout {
    static let chunkSize = 1 << 16
    static let trailerSize = 16
    static let magic: [UInt8] = Array("MXZ1".utf8)
    static let storedFlag: UInt32 = 1 << 31
}

/// One zlib stream reused for every chunk of a blob (`CMaxIOCompress`).
final class DeflateContext: @unchecked Sendable {
    let ctx: OpaquePointer
    init(level: Int) throws {
        guard let c = maxio_deflate_new(Int32(level)) else { throw StorageError.io("cannot set up deflate") }
        ctx = c
    }
    deinit { maxio_deflate_free(ctx) }
}

final class InflateContext: @unchecked Sendable {
    let ctx: OpaquePointer
    init() throws {
        guard let c = maxio_inflate_new() else { throw StorageError.io("cannot set up inflate") }
        ctx = c
    }
    deinit { maxio_inflate_free(ctx) }
}

/// Compresses a blob's bytes as they stream in, into the compressed form.
struct ChunkCompressor {
    let deflate: DeflateContext
    var staged: [UInt8] = []
    var lengths: [UInt32] = []
    var total: Int64 = 0

    init(level: Int) throws {
        deflate = try DeflateContext(level: level)
        staged.reserveCapacity(CompressedLayout.chunkSize)
    }

    /// Appends to `out` the compressed chunks `raw` completes.
    mutating func feed(_ raw: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        total += Int64(raw.count)
        var offset = 0
        while offset < raw.count {
            let n = min(CompressedLayout.chunkSize - staged.count, raw.count - offset)
            staged.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]))
            offset += n
            if staged.count == CompressedLayout.chunkSize { emit(into: &out) }
        }
    }

    /// Appends the last chunk, the index and the trailer.
    mutating func finish(into out: inout ByteBuffer) {
        if !staged.isEmpty { emit(into: &out) }
        for l in lengths { out.writeInteger(l, endianness: .little) }
        out.writeBytes(CompressedLayout.magic)
        out.writeInteger(UInt32(lengths.count), endianness: .little)
        out.writeInteger(UInt64(total), endianness: .little)
    }

    private mutating func emit(into out: inout ByteBuffer) {
        let ctx = deflate.ctx
        let count = staged.count
        var written = 0
        staged.withUnsafeBytes { input in
            written = out.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { ptr in
                maxio_deflate_chunk(
                    ctx, input.baseAddress!.assumingMemoryBound(to: UInt8.self), count,
                    ptr.baseAddress!.assumingMemoryBound(to: UInt8.self), count - 1)
            }
            if written == 0 { out.writeBytes(input) }
        }
        lengths.append(written == 0 ? UInt32(count) | CompressedLayout.storedFlag : UInt32(written))
        staged.removeAll(keepingCapacity: true)
    }
}

/// Reads the compressed form through the stored bytes below it (plain or sealed).
struct ChunkInflater: Sendable {
    /// Uncompressed bytes.
    let size: Int64
    /// Where each chunk starts in the stored bytes, and its stored length and form.
    let offsets: [Int64]
    let lengths: [UInt32]
    let inflate: InflateContext

    /// Reads the index and trailer at the end of `storedSize` stored bytes through `read`.
    init(storedSize: Int64, read: (Int64, Int) throws -> ByteBuffer) throws {
        let broken = StorageError.io("compressed blob: damaged index")
        guard storedSize >= Int64(CompressedLayout.trailerSize) else { throw broken }
        let trailer = try read(storedSize - Int64(CompressedLayout.trailerSize), CompressedLayout.trailerSize)
        guard trailer.readableBytes == CompressedLayout.trailerSize,
            trailer.getBytes(at: trailer.readerIndex, length: 4) == CompressedLayout.magic,
            let count = trailer.getInteger(at: trailer.readerIndex + 4, endianness: .little, as: UInt32.self),
            let size = trailer.getInteger(at: trailer.readerIndex + 8, endianness: .little, as: UInt64.self)
        else { throw broken }
        let indexBytes = Int64(count) * 4
        guard indexBytes + Int64(CompressedLayout.trailerSize) <= storedSize,
            Int64(count) == (Int64(size) + Int64(CompressedLayout.chunkSize) - 1) / Int64(CompressedLayout.chunkSize)
        else { throw broken }
        var lengths: [UInt32] = []
        var offsets: [Int64] = []
        lengths.reserveCapacity(Int(count))
        offsets.reserveCapacity(Int(count))
        if count > 0 {
            var index = try read(storedSize - Int64(CompressedLayout.trailerSize) - indexBytes, Int(indexBytes))
            guard index.readableBytes == Int(indexBytes) else { throw broken }
            var at: Int64 = 0
            while let l = index.readInteger(endianness: .little, as: UInt32.self) {
                offsets.append(at)
                lengths.append(l)
                at += Int64(l & ~CompressedLayout.storedFlag)
            }
            guard at + indexBytes + Int64(CompressedLayout.trailerSize) == storedSize else { throw broken }
        }
        self.size = Int64(size)
        self.offsets = offsets
        self.lengths = lengths
        self.inflate = try InflateContext()
    }

    /// Uncompressed bytes `offset..<offset+length` (clamped to the blob), reading stored bytes through `read`.
    func read(offset: Int64, length: Int, stored read: (Int64, Int) throws -> ByteBuffer) throws -> ByteBuffer {
        let end = min(size, offset + Int64(length))
        guard offset < end else { return ByteBuffer() }
        let chunk = Int64(CompressedLayout.chunkSize)
        let first = Int(offset / chunk)
        let last = Int((end - 1) / chunk)
        let from = offsets[first]
        let to = offsets[last] + Int64(lengths[last] & ~CompressedLayout.storedFlag)
        let stored = try read(from, Int(to - from))
        guard stored.readableBytes == Int(to - from) else { throw StorageError.io("compressed blob: short read") }
        var out = ByteBuffer()
        out.reserveCapacity(Int(end - offset))
        var scratch = [UInt8](repeating: 0, count: CompressedLayout.chunkSize)
        try stored.withUnsafeReadableBytes { raw in
            for i in first...last {
                let plainStart = Int64(i) * chunk
                let plainLen = Int(min(chunk, size - plainStart))
                let storedLen = Int(lengths[i] & ~CompressedLayout.storedFlag)
                let input = UnsafeRawBufferPointer(
                    rebasing: raw[Int(offsets[i] - from)..<Int(offsets[i] - from) + storedLen])
                let lo = Int(max(offset, plainStart) - plainStart)
                let hi = Int(min(end, plainStart + Int64(plainLen)) - plainStart)
                if lengths[i] & CompressedLayout.storedFlag != 0 {
                    guard storedLen == plainLen else { throw StorageError.io("compressed blob: damaged chunk \(i)") }
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: input[lo..<hi]))
                    continue
                }
                let ok = scratch.withUnsafeMutableBytes { s in
                    maxio_inflate_chunk(
                        inflate.ctx, input.baseAddress!.assumingMemoryBound(to: UInt8.self), storedLen,
                        s.baseAddress!.assumingMemoryBound(to: UInt8.self), plainLen)
                }
                guard ok == 1 else { throw StorageError.io("compressed blob: chunk \(i) does not inflate") }
                _ = scratch.withUnsafeBytes { s in out.writeBytes(UnsafeRawBufferPointer(rebasing: s[lo..<hi])) }
            }
        }
        return out
    }
}
