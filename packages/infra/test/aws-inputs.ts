/** The inputs of an AWS profile, for the in-process tests. */
import type { ProfileInput } from "@productive-k3s/pkg-format/schema-profile";

export const awsInputs: ProfileInput[] = [
  { name: "AWS_REGION", required: true, sensitive: false, source: "package-default", description: "Default AWS region" },
  { name: "AWS_KEY_PAIR_NAME", required: true, sensitive: false, source: "local-override", description: "Existing AWS EC2 key pair name" },
  { name: "AWS_SSH_KEY_PATH", required: true, sensitive: false, source: "local-override", description: "Absolute local path to the key" },
];
