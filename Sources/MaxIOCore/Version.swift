/// The server's version (`maxiofs version`, start-up lines, SOSAPI's model name).
package enum MaxIOVersion {
    package static let string = "0.1.0"
}
