import BPFSyscallDistCommand

BPFSyscallDist.runAndExit()
