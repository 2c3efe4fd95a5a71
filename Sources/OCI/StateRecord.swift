/// What a container's state.json records, as read back by every command
/// that looks at a container. The file may have been damaged or written by
/// someone else: fields of the wrong type read as absent, and anything that
/// is not JSON is an error the caller reports (the container stays deletable).
public struct StateRecord: Equatable, Sendable {
    public var status: String?
    public var pid: Int32?
    public var initPid: Int32?
    public var bundle: String?
    public var exitCode: Int32?
    public var annotations: [(String, String)] = []

    public static func == (a: StateRecord, b: StateRecord) -> Bool {
        a.status == b.status && a.pid == b.pid && a.initPid == b.initPid && a.bundle == b.bundle
            && a.exitCode == b.exitCode && a.annotations.elementsEqual(b.annotations) { $0 == $1 }
    }

    public static func decode(_ bytes: [UInt8]) throws(JSONError) -> StateRecord {
        let json = try JSON.parse(bytes)
        func int(_ key: String) -> Int32? {
            if case .number(let text)? = json[key] { return Int32(text) }
            return nil
        }
        func string(_ key: String) -> String? {
            if case .string(let text)? = json[key] { return text }
            return nil
        }
        var record = StateRecord(
            status: string("status"), pid: int("pid"), initPid: int("initPid"),
            bundle: string("bundle"), exitCode: int("exitCode"))
        if case .object(let members)? = json["annotations"] {
            for (key, value) in members { if case .string(let text) = value { record.annotations.append((key, text)) } }
        }
        return record
    }
}
