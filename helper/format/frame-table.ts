// SPDX-License-Identifier: GPL-3.0-or-later
// Where a stream's data frames lie, in columns of numbers: a fragmented file has tens of thousands of frames,
// and as objects each frame with its stored pieces took ~250 bytes of heap (V8 boxes every number of a
// field once one value of it exceeds 2^30, as disk and file offsets do); here a frame and its piece take 52.
// Pure: built by the scan (stream-scan.ts), read by StreamSource.

/** One stored piece of a data frame: all of it when uncompressed, one lz4 frame when compressed. */
export interface StoredPiece {
    /** Disk offset and uncompressed length. */
    offset: number;
    length: number;
    /** Where its bytes lie in the file, and how many. */
    fileOffset: number;
    storedLength: number;
}

export class FrameTable {
    constructor(
        /** Per data frame, in disk order: its disk range, and the index of its first piece. */
        private readonly frameOffset: Float64Array,
        private readonly frameLength: Float64Array,
        /** One more entry than frames: frame i's pieces are firstPiece[i] .. firstPiece[i + 1] - 1. */
        private readonly firstPiece: Uint32Array,
        private readonly pieceOffset: Float64Array,
        private readonly pieceLength: Float64Array,
        private readonly pieceFileOffset: Float64Array,
        private readonly pieceStoredLength: Float64Array,
    ) {}

    get frameCount(): number {
        return this.frameOffset.length;
    }

    get pieceCount(): number {
        return this.pieceOffset.length;
    }

    frameStart(i: number): number {
        return this.frameOffset[i]!;
    }

    frameEnd(i: number): number {
        return this.frameOffset[i]! + this.frameLength[i]!;
    }

    /** The pieces of frame i: indexes first .. end - 1. */
    piecesOf(i: number): { first: number; end: number } {
        return { first: this.firstPiece[i]!, end: this.firstPiece[i + 1]! };
    }

    piece(j: number): StoredPiece {
        return { offset: this.pieceOffset[j]!, length: this.pieceLength[j]!, fileOffset: this.pieceFileOffset[j]!, storedLength: this.pieceStoredLength[j]! };
    }

    pieceStart(j: number): number {
        return this.pieceOffset[j]!;
    }

    pieceEnd(j: number): number {
        return this.pieceOffset[j]! + this.pieceLength[j]!;
    }

    /** The longest piece's uncompressed length (0 without pieces). */
    largestPiece(): number {
        let largest = 0;
        for (const length of this.pieceLength)
            largest = Math.max(largest, length);
        return largest;
    }

    /** Index of the last frame starting at or before `offset`; -1 when none does. */
    frameIndexAt(offset: number): number {
        let lo = 0;
        let hi = this.frameOffset.length - 1;
        let found = -1;
        while (lo <= hi) {
            const mid = (lo + hi) >> 1;
            if (this.frameOffset[mid]! <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return found;
    }

    /** Every stored piece, in disk order. */
    pieces(): StoredPiece[] {
        return Array.from({ length: this.pieceCount }, (_, j) => this.piece(j));
    }
}

/** Growable columns, frame by frame, then one FrameTable. */
export class FrameTableBuilder {
    private frames = 0;
    private pieces = 0;
    private frameOffset = new Float64Array(64);
    private frameLength = new Float64Array(64);
    private firstPiece = new Uint32Array(65);
    private pieceOffset = new Float64Array(64);
    private pieceLength = new Float64Array(64);
    private pieceFileOffset = new Float64Array(64);
    private pieceStoredLength = new Float64Array(64);

    get frameCount(): number {
        return this.frames;
    }

    /** Adds a data frame of disk range offset+length made of `pieces` (in disk order). */
    add(offset: number, length: number, pieces: readonly StoredPiece[]): void {
        if (this.frames === this.frameOffset.length) {
            this.frameOffset = grow(this.frameOffset);
            this.frameLength = grow(this.frameLength);
            const first = new Uint32Array(this.firstPiece.length * 2);
            first.set(this.firstPiece);
            this.firstPiece = first;
        }
        this.frameOffset[this.frames] = offset;
        this.frameLength[this.frames] = length;
        this.firstPiece[this.frames] = this.pieces;
        for (const p of pieces) {
            if (this.pieces === this.pieceOffset.length) {
                this.pieceOffset = grow(this.pieceOffset);
                this.pieceLength = grow(this.pieceLength);
                this.pieceFileOffset = grow(this.pieceFileOffset);
                this.pieceStoredLength = grow(this.pieceStoredLength);
            }
            this.pieceOffset[this.pieces] = p.offset;
            this.pieceLength[this.pieces] = p.length;
            this.pieceFileOffset[this.pieces] = p.fileOffset;
            this.pieceStoredLength[this.pieces] = p.storedLength;
            this.pieces++;
        }
        this.frames++;
        this.firstPiece[this.frames] = this.pieces;
    }

    /** The table, in columns of exactly its size. */
    build(): FrameTable {
        return new FrameTable(
            this.frameOffset.slice(0, this.frames), this.frameLength.slice(0, this.frames), this.firstPiece.slice(0, this.frames + 1),
            this.pieceOffset.slice(0, this.pieces), this.pieceLength.slice(0, this.pieces),
            this.pieceFileOffset.slice(0, this.pieces), this.pieceStoredLength.slice(0, this.pieces),
        );
    }
}

function grow(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
    const b = new Float64Array(a.length * 2);
    b.set(a);
    return b;
}
