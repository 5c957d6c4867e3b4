//! A Merkle commitment whose prover data is shared, not owned.
//!
//! p3-whir's `open` takes the commitment's prover data by value, while a
//! proving key serves many proofs. With the Merkle tree (the whole committed
//! codeword and its digest layers) behind an `Arc`, handing p3 its "own" copy
//! costs a reference count instead of a copy of the codeword (≈ 1 GiB and more
//! than a second at 2^25 committed elements). Everything else — commitments,
//! opening proofs, verification — is the wrapped scheme's, byte for byte.

use std::sync::Arc;

use p3_commit::{BatchOpening, BatchOpeningRef, Mmcs};
use p3_matrix::{Dimensions, Matrix};

/// `M` with its prover data behind an [`Arc`].
#[derive(Clone, Debug)]
pub struct SharedMmcs<M>(pub M);

impl<T: Send + Sync + Clone, M: Mmcs<T>> Mmcs<T> for SharedMmcs<M> {
    type ProverData<Mat> = Arc<M::ProverData<Mat>>;
    type Commitment = M::Commitment;
    type Proof = M::Proof;
    type MultiProof = M::MultiProof;
    type Error = M::Error;

    fn commit<Mat: Matrix<T>>(
        &self,
        inputs: Vec<Mat>,
    ) -> (Self::Commitment, Self::ProverData<Mat>) {
        let (commitment, data) = self.0.commit(inputs);
        (commitment, Arc::new(data))
    }

    fn open_batch<Mat: Matrix<T>>(
        &self,
        index: usize,
        prover_data: &Self::ProverData<Mat>,
    ) -> BatchOpening<T, Self> {
        let (values, proof) = self.0.open_batch(index, prover_data).unpack();
        BatchOpening::new(values, proof)
    }

    fn get_matrices<'a, Mat: Matrix<T>>(
        &self,
        prover_data: &'a Self::ProverData<Mat>,
    ) -> Vec<&'a Mat> {
        self.0.get_matrices(prover_data)
    }

    fn verify_batch(
        &self,
        commit: &Self::Commitment,
        dimensions: &[Dimensions],
        index: usize,
        batch_opening: BatchOpeningRef<'_, T, Self>,
    ) -> Result<(), Self::Error> {
        let (values, proof) = batch_opening.unpack();
        self.0.verify_batch(
            commit,
            dimensions,
            index,
            BatchOpeningRef::new(values, proof),
        )
    }

    fn open_multi_batch<Mat: Matrix<T>>(
        &self,
        indices: &[usize],
        prover_data: &Self::ProverData<Mat>,
    ) -> (Vec<Vec<Vec<T>>>, Self::MultiProof) {
        self.0.open_multi_batch(indices, prover_data)
    }

    fn verify_multi_batch<R: AsRef<[T]> + PartialEq>(
        &self,
        commit: &Self::Commitment,
        dimensions: &[Dimensions],
        indices: &[usize],
        opened_values: &[Vec<R>],
        proof: &Self::MultiProof,
    ) -> Result<(), Self::Error> {
        self.0
            .verify_multi_batch(commit, dimensions, indices, opened_values, proof)
    }
}
