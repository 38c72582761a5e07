{-# LANGUAGE DerivingStrategies #-}
{-# LANGUAGE GeneralizedNewtypeDeriving #-}
{-# LANGUAGE LambdaCase #-}
{-# LANGUAGE PatternSynonyms #-}
{-# LANGUAGE StandaloneDeriving #-}

-- | The vocabulary of the service: which models exist, what a request and its
-- usage look like. Everything else imports this module.
module LLM.Types
  ( -- * Models
    LLMKind (..)
  , Tier (..)
  , pattern Flagship
  , isFlagship
  , allKinds
  , modelName
  , parseKind
  , tierOf
  , contextWindow
    -- * Requests
  , Tokens (..)
  , RequestId (..)
  , Role (..)
  , Message (..)
  , Request (..)
  , Usage (..)
  , (<+>)
  , totalTokens
    -- * Synonyms used in signatures
  , Budget
  , ModelName
  ) where

-- | The Claude models the service can route to.
data LLMKind = Sonnet | Opus | Haiku
  deriving (Show, Eq, Ord, Enum, Bounded)

-- | Latency/quality tier a caller can ask for instead of a concrete model.
data Tier = Fast | Balanced | Deep
  deriving stock (Show, Eq, Ord)

-- | A token count. Arithmetic comes from 'Int'.
newtype Tokens = Tokens { getTokens :: Int }
  deriving newtype (Show, Eq, Ord, Num)

newtype RequestId = RequestId Int

deriving instance Show RequestId
deriving instance Eq RequestId

data Role = System | User | Assistant
  deriving (Show, Eq)

-- | One chat message: @User :> "hello"@.
data Message = Role :> String
  deriving (Show, Eq)

infixr 5 :>

-- | A request as it arrives from a client. 'requestKind' is 'Nothing' when the
-- router should choose.
data Request = Request
  { requestId :: RequestId
  , requestKind :: Maybe LLMKind
  , requestTier :: Tier
  , requestMessages :: [Message]
  , maxTokens :: Tokens
  } deriving (Show, Eq)

-- | Input and output tokens of one call.
data Usage = Usage Tokens Tokens
  deriving (Show, Eq)

-- | Dollars.
type Budget = Double

-- | The model identifier sent to the API.
type ModelName = String

-- | The most capable model, whichever it currently is.
pattern Flagship :: LLMKind
pattern Flagship = Opus

isFlagship :: LLMKind -> Bool
isFlagship Flagship = True
isFlagship _ = False

-- | Add two usages.
(<+>) :: Usage -> Usage -> Usage
Usage i1 o1 <+> Usage i2 o2 = Usage (i1 + i2) (o1 + o2)

infixl 6 <+>

totalTokens :: Usage -> Tokens
totalTokens (Usage input output) = input + output

-- | Every model, in declaration order.
allKinds :: [LLMKind]
allKinds = [minBound .. maxBound]

modelName :: LLMKind -> ModelName
modelName Sonnet = "claude-sonnet-4-5"
modelName Opus = "claude-opus-4-1"
modelName Haiku = "claude-haiku-4-5"

parseKind :: String -> Maybe LLMKind
parseKind name = case name of
  "sonnet" -> Just Sonnet
  "opus" -> Just Opus
  "haiku" -> Just Haiku
  _ -> Nothing

tierOf :: LLMKind -> Tier
tierOf = \case
  Haiku -> Fast
  Sonnet -> Balanced
  Opus -> Deep

contextWindow :: LLMKind -> Tokens
contextWindow kind = case kind of
  Haiku -> Tokens 200000
  _ -> Tokens 1000000
