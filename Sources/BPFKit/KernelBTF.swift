import CLibbpf

/// BTF_KIND_FUNC, spelled out: Swift sees it as both a macro and an enum case (ambiguous).
private let btfKindFunc: UInt32 = 12

/// The running kernel's BTF (`/sys/kernel/btf/vmlinux`), for enum names like `bpf_cmd`.
public final class KernelBTF: @unchecked Sendable {
  // Read-only after init, hence safe to share.
  private let btf: OpaquePointer

  public init() throws(BPFError) {
    btf = try check("load the kernel's BTF (/sys/kernel/btf/vmlinux)", btf__load_vmlinux_btf())
  }

  deinit {
    btf__free(btf)
  }

  /// The enumerators of `enum name` by value, the first name of each value; nil if absent.
  public func enumerators(of name: String) -> [UInt64: String]? {
    let id = btf__find_by_name_kind(btf, name, UInt32(BTF_KIND_ENUM))
    guard id > 0, let type = btf__type_by_id(btf, UInt32(id)) else { return nil }
    let count = Int(type.pointee.info & 0xffff)  // btf_vlen
    let members = UnsafeRawPointer(type + 1).assumingMemoryBound(to: btf_enum.self)
    var result: [UInt64: String] = [:]
    for index in 0..<count {
      let member = members[index]
      let value = UInt64(UInt32(bitPattern: member.val))
      if result[value] == nil, let cName = btf__name_by_offset(btf, member.name_off) {
        result[value] = String(cString: cName)
      }
    }
    return result
  }

  /// True when the kernel has a function named `name` in its BTF (fentry needs one).
  public func hasFunction(_ name: String) -> Bool {
    btf__find_by_name_kind(btf, name, btfKindFunc) > 0
  }
}
