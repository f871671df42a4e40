import BPFKit
import Profiles

/// The running kernel's BTF answers the profile loader's `btf_enum` and `read: {type: ...}`
/// questions.
extension VmlinuxBTF: EnumSource {
  public func typeLayout(of name: String) -> TypeLayout? {
    layout(of: name).map { TypeLayout(size: $0.size, fields: $0.fields.mapValues { ($0.offset, $0.size) }) }
  }
}
