-- | Service configuration: budgets, fallbacks and per-model limits.
module LLM.Config
  ( Config (..)
  , Limits (..)
  , defaultConfig
  , strictConfig
  , withBudget
  , disable
  , fallbackFor
  , limitFor
  , isEnabled
  ) where

import qualified Data.Map.Strict as Map
import Data.Maybe (fromMaybe)

import LLM.Types

-- | Per-model limits: requests per minute and tokens per request.
data Limits = Limits Int Tokens
  deriving (Show, Eq)

data Config = Config
  { defaultKind :: LLMKind
  , fallbackKind :: Maybe LLMKind
  , dailyBudget :: Budget
  , limits :: Map.Map LLMKind Limits
  , disabled :: [LLMKind]
  } deriving (Show, Eq)

defaultConfig :: Config
defaultConfig = Config
  { defaultKind = Sonnet
  , fallbackKind = Just Haiku
  , dailyBudget = 50
  , limits = Map.fromList [ (k, defaultLimits k) | k <- allKinds ]
  , disabled = []
  }
  where
    defaultLimits Opus = Limits 50 (Tokens 32000)
    defaultLimits Sonnet = Limits 200 (Tokens 64000)
    defaultLimits Haiku = Limits 1000 (Tokens 64000)

-- | A cheap configuration for tests and CI, built positionally.
strictConfig :: Config
strictConfig = Config Haiku Nothing 1 Map.empty [Opus]

withBudget :: Budget -> Config -> Config
withBudget budget config = config { dailyBudget = budget }

disable :: LLMKind -> Config -> Config
disable kind config = config { disabled = kind : disabled config }

-- | The model to try when @kind@ fails; never the same model again.
fallbackFor :: Config -> LLMKind -> Maybe LLMKind
fallbackFor Config { fallbackKind = Just fb, disabled = off } kind
  | fb /= kind && fb `notElem` off = Just fb
fallbackFor _ Opus = Just Sonnet
fallbackFor _ _ = Nothing

limitFor :: Config -> LLMKind -> Limits
limitFor config kind =
  fromMaybe (Limits 10 (contextWindow kind)) (Map.lookup kind (limits config))

isEnabled :: Config -> LLMKind -> Bool
isEnabled config kind = kind `notElem` disabled config
