// swift-tools-version:6.2
import Foundation
import PackageDescription

var swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]
if ProcessInfo.processInfo.environment["CI"] != nil {
    swiftSettings.append(.treatAllWarnings(as: .error))
}

let package = Package(
    name: "MaxIOFS",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "maxiofs", targets: ["maxiofs"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .target(name: "CMaxIOChecksum"),
        .target(name: "CMaxIOCipher"),
        .target(name: "CMaxIOCompress", linkerSettings: [.linkedLibrary("z")]),
        .target(
            name: "MaxIOCore",
            dependencies: [
                "CMaxIOChecksum",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOSigV4",
            dependencies: [
                "MaxIOCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOS3",
            dependencies: ["MaxIOCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOStorage",
            dependencies: [
                "MaxIOCore", "CMaxIOCipher", "CMaxIOCompress",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOIAM",
            dependencies: [
                "MaxIOCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOSQLite",
            dependencies: [
                "MaxIOCore",
                "MaxIOIAM",
                "MaxIOStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOS3API",
            dependencies: [
                "MaxIOCore",
                "MaxIOS3",
                "MaxIOSigV4",
                "MaxIOIAM",
                "MaxIOStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOConsole",
            dependencies: [
                "MaxIOCore",
                "MaxIOIAM",
                "MaxIOStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Web"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MaxIOServer",
            dependencies: [
                "MaxIOCore",
                "MaxIOConsole",
                "MaxIOIAM",
                "MaxIOS3API",
                "MaxIOStorage",
                "MaxIOSQLite",
                "MaxIOSigV4",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "maxiofs",
            dependencies: [
                "MaxIOCore",
                "MaxIOServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MaxIOS3Tests",
            dependencies: ["MaxIOS3", "MaxIOCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MaxIOServerTests",
            dependencies: ["MaxIOServer"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MaxIOIAMTests",
            dependencies: ["MaxIOIAM"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MaxIOSigV4Tests",
            dependencies: ["MaxIOSigV4", "MaxIOCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MaxIOStorageTests",
            dependencies: [
                "MaxIOStorage", "MaxIOSQLite", "MaxIOCore", "MaxIOIAM",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
