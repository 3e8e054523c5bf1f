package dev.veriruntime.verifier.process;

/**
 * The first byte of a mapping whose value in memory differs from the file.
 *
 * @param address virtual address in the process
 * @param fileOffset offset of that byte in the mapped file
 * @param memoryByte the byte in memory (0..255)
 * @param fileByte the byte in the file (0..255), or 0 past end of file, where memory must be zero
 * @param pastEndOfFile true when the byte lies between the end of the file and the end of its page
 */
public record CodeDifference(
    long address, long fileOffset, int memoryByte, int fileByte, boolean pastEndOfFile) {}
