import CLibbpf

/// The ids of every BPF program, map and link on the system: what a run must leave as it found.
public enum BPFInventory {
  public static func programIDs() -> [UInt32] { ids(bpf_prog_get_next_id) }
  public static func mapIDs() -> [UInt32] { ids(bpf_map_get_next_id) }
  public static func linkIDs() -> [UInt32] { ids(bpf_link_get_next_id) }

  private static func ids(_ next: (UInt32, UnsafeMutablePointer<UInt32>?) -> Int32) -> [UInt32] {
    var result: [UInt32] = []
    var id: UInt32 = 0
    while next(id, &id) == 0 { result.append(id) }
    return result
  }
}
